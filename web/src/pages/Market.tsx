// Any stored symbol and timeframe as candles, drawing live candles as they form and close
// (WebSocket channel candles).
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { useSearchParams } from "react-router-dom";
import { get, qs } from "../api";
import { useUser } from "../auth";
import { CandleChart, type ChartHandle } from "../components/CandleChart";
import { Card, Empty, ErrorBox, Loading } from "../components/ui";
import { dateTime, num, pct, trend } from "../format";
import { useLive } from "../live";
import type { Candle, Page, SymbolInfo, Ticker } from "../types";

const TIMEFRAMES = ["1m", "5m", "15m", "1h", "4h", "1d", "1w"];
const SECONDS: Record<string, number> = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800 };

export function Market() {
  const user = useUser();
  const [params, setParams] = useSearchParams();
  const symbols = useQuery({ queryKey: ["symbols"], queryFn: () => get<Page<SymbolInfo>>("/market/symbols") });
  const stored = symbols.data?.items ?? [];
  const symbol = params.get("symbol") ?? stored[0]?.symbol ?? "";
  const base = stored.find((s) => s.symbol === symbol)?.timeframe ?? "1m";
  const choices = TIMEFRAMES.filter((t) => SECONDS[t] >= (SECONDS[base] ?? 60));
  const timeframe = params.get("timeframe") && choices.includes(params.get("timeframe")!) ? params.get("timeframe")! : choices.includes("1h") ? "1h" : choices[0];

  const candles = useQuery({
    queryKey: ["ohlcv", symbol, timeframe],
    enabled: stored.some((s) => s.symbol === symbol), // the timeframes offered depend on what is stored
    queryFn: () => get<{ items: Candle[] }>(`/market/ohlcv/${symbol}${qs({ timeframe, limit: 500 })}`),
  });
  const ticker = useQuery({
    queryKey: ["ticker", symbol],
    enabled: stored.some((s) => s.symbol === symbol),
    queryFn: () => get<Ticker>(`/market/ticker/${symbol}`),
  });

  const chart = useRef<ChartHandle>(null);
  const last = useRef<{ price: string; change: number | null } | null>(null);
  const priceEl = useRef<HTMLSpanElement>(null);
  useEffect(() => {
    last.current = null;
  }, [symbol]);
  useLive(symbol ? { channel: "candles", symbol, timeframe } : null, (e) => {
    if (e.channel !== "candles") return;
    const d = e.data as unknown as Candle & { symbol: string; timeframe: string };
    if (d.symbol !== symbol || d.timeframe !== timeframe) return;
    chart.current?.update({ ...d, open: +d.open, high: +d.high, low: +d.low, close: +d.close, volume: +d.volume });
  });
  useLive(symbol ? { channel: "ticker", symbols: [symbol] } : null, (e) => {
    if (e.channel !== "ticker" || (e.data.symbol as string) !== symbol) return;
    last.current = { price: String(e.data.price), change: (e.data.change_24h_pct as number) ?? null };
    if (priceEl.current) priceEl.current.textContent = num(last.current.price);
  });

  const set = (k: string, v: string) => {
    const p = new URLSearchParams(params);
    p.set(k, v);
    if (k === "symbol") p.delete("timeframe");
    setParams(p, { replace: true });
  };

  if (symbols.isPending) return <Loading what="Loading the stored symbols" />;
  return (
    <div className="page">
      <h1>Market</h1>
      <ErrorBox error={symbols.error} />
      {stored.length === 0 ? (
        <Empty>No candles are stored yet: `apextrade data import` or `POST /api/v1/market/sync` loads some.</Empty>
      ) : (
        <Card
          title={
            <>
              {symbol}{" "}
              <span ref={priceEl} className="num" data-testid="last-price">
                {ticker.data ? num(ticker.data.price) : ""}
              </span>{" "}
              {ticker.data && <small className={trend(ticker.data.change_24h_pct)}>{pct(ticker.data.change_24h_pct)} 24 h</small>}
            </>
          }
          actions={
            <div className="controls">
              <label>
                <span className="sr-only">Symbol</span>
                <select value={symbol} onChange={(e) => set("symbol", e.target.value)}>
                  {stored.map((s) => (
                    <option key={s.symbol}>{s.symbol}</option>
                  ))}
                </select>
              </label>
              <div role="group" aria-label="Timeframe" className="seg">
                {choices.map((t) => (
                  <button key={t} type="button" aria-pressed={t === timeframe} onClick={() => set("timeframe", t)}>
                    {t}
                  </button>
                ))}
              </div>
            </div>
          }
        >
          <ErrorBox error={candles.error} />
          {candles.isPending ? (
            <Loading what="Loading candles" />
          ) : (
            <CandleChart ref={chart} candles={candles.data?.items ?? []} timeZone={user.timezone} label={`${symbol} ${timeframe} candles`} />
          )}
          <p className="muted small">
            {stored.find((s) => s.symbol === symbol)?.candles.toLocaleString()} {base} candles stored, from{" "}
            {dateTime(stored.find((s) => s.symbol === symbol)?.first, user.timezone)} to{" "}
            {dateTime(stored.find((s) => s.symbol === symbol)?.last, user.timezone)} ({user.timezone}).
          </p>
        </Card>
      )}
    </div>
  );
}
