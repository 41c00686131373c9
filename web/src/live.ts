// One WebSocket per tab (GET /api/v1/ws, docs/websocket.md) shared by every page: subscriptions
// are counted, so two widgets on one ticker subscribe once; the socket reconnects with back-off
// and a fresh token (it closes with 1008 when the token expires) and subscribes again.
import { useEffect, useRef } from "react";
import { accessToken, refreshSession } from "./api";

export type Subscription =
  | { channel: "ticker"; symbols: string[] }
  | { channel: "portfolio"; portfolio_id: string }
  | { channel: "trade" }
  | { channel: "strategy" }
  | { channel: "backtest_progress"; backtest_id?: string }
  | { channel: "candles"; symbol: string; timeframe: string };

export type LiveEvent = { channel: string; data: Record<string, unknown> };
type Listener = (e: LiveEvent) => void;

class LiveSocket {
  private ws: WebSocket | null = null;
  private subs = new Map<string, { req: Subscription; n: number }>();
  private listeners = new Set<Listener>();
  private retry = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  subscribe(req: Subscription, fn: Listener): () => void {
    const key = JSON.stringify(req);
    const s = this.subs.get(key);
    if (s) s.n++;
    else {
      this.subs.set(key, { req, n: 1 });
      this.send({ action: "subscribe", ...req });
    }
    this.listeners.add(fn);
    this.open();
    return () => {
      this.listeners.delete(fn);
      const t = this.subs.get(key);
      if (t && --t.n === 0) {
        this.subs.delete(key);
        this.send({ action: "unsubscribe", ...req });
      }
      if (!this.subs.size) this.close();
    };
  }

  private send(msg: object) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private open() {
    if (this.ws || this.timer || !this.subs.size) return;
    const token = accessToken();
    if (!token) return;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(`${proto}//${location.host}/api/v1/ws?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      for (const { req } of this.subs.values()) this.send({ action: "subscribe", ...req });
    };
    ws.onmessage = (m) => {
      let e: LiveEvent;
      try {
        e = JSON.parse(m.data as string);
      } catch {
        return;
      }
      for (const l of this.listeners) l(e);
    };
    ws.onclose = (c) => {
      this.ws = null;
      if (!this.subs.size) return;
      const delay = Math.min(30_000, 500 * 2 ** this.retry++);
      this.timer = setTimeout(async () => {
        this.timer = undefined;
        if (c.code === 1008) await refreshSession().catch(() => null); // expired or revoked
        this.open();
      }, delay);
    };
  }

  private close() {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.ws?.close(1000);
    this.ws = null;
  }
}

const live = new LiveSocket();

/** Subscribes while mounted (req null: not now); fn sees every event of the socket. */
export function useLive(req: Subscription | null, fn: (e: LiveEvent) => void) {
  const ref = useRef(fn);
  ref.current = fn;
  const key = req ? JSON.stringify(req) : "";
  useEffect(() => {
    if (!key) return;
    return live.subscribe(JSON.parse(key) as Subscription, (e) => ref.current(e));
  }, [key]);
}
