// Live trading in the UI: starting a strategy live with one of the user's broker keys (shown only
// when the server allows it: FEATURE_LIVE_TRADING), the kill switch in the header while any live
// strategy runs, and the drift report of a strategy's real fills against its backtest.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { ApiError, api, get } from "../api";
import { useUser } from "../auth";
import { Card, ErrorBox, Field, Loading } from "../components/ui";
import { dateTime, num, trend } from "../format";
import type { ApiKey, Strategy } from "../types";

export type TradingStatus = { live_trading_enabled: boolean; live_strategies: number };

/** The server's switch and the user's live strategies; refreshed with every strategy change. */
export function useTradingStatus() {
  return useQuery({ queryKey: ["strategies", "trading-status"], queryFn: () => get<TradingStatus>("/trading/status"), refetchInterval: 30_000 });
}

const VENUE: Record<string, string> = { binance: "Binance", kraken: "Kraken", coinbase: "Coinbase", alpaca: "Alpaca" };
const venue = (k: ApiKey) => `${VENUE[k.exchange] ?? k.exchange}${k.is_paper ? (k.exchange === "alpaca" ? " paper" : " testnet") : ""}`;
const amount = (v: string) => (v.trim() ? v.trim() : undefined);

/** The live form: a key, optional limits, and an explicit confirmation that real orders follow. */
export function LiveActivate({ s }: { s: Strategy }) {
  const qc = useQueryClient();
  const keys = useQuery({ queryKey: ["api-keys"], queryFn: () => get<{ items: ApiKey[] }>("/api-keys") });
  const [keyId, setKeyId] = useState("");
  const [capital, setCapital] = useState("");
  const [maxOrder, setMaxOrder] = useState("");
  const [maxDaily, setMaxDaily] = useState("");
  const [hours, setHours] = useState("hold");
  const [confirmed, setConfirmed] = useState(false);
  const items = keys.data?.items ?? [];
  const key = items.find((k) => k.id === keyId) ?? items[0];
  const act = useMutation({
    mutationFn: () =>
      api<Strategy>("POST", `/strategies/${s.id}/activate`, {
        mode: "live",
        api_key_id: key?.id,
        confirm_live: confirmed,
        capital: amount(capital),
        max_order_notional: amount(maxOrder),
        max_daily_notional: amount(maxDaily),
        ...(key?.exchange === "alpaca" ? { outside_hours: hours } : {}),
      }),
    onSuccess: () => qc.invalidateQueries(),
  });
  if (keys.isPending) return <Loading />;
  if (!items.length)
    return (
      <p className="muted">
        Live trading needs a broker key: <Link to="/settings">store one in Settings</Link>.
      </p>
    );
  return (
    <form
      className="live-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        act.mutate();
      }}
    >
      <ErrorBox error={keys.error ?? act.error} />
      <div className="row2">
        <Field label="Broker key" hint="Orders go to this account">
          <select value={key?.id} onChange={(e) => setKeyId(e.target.value)}>
            {items.map((k) => (
              <option key={k.id} value={k.id}>
                {k.label} · {venue(k)} · {k.key_hint}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Capital" hint={`In ${s.asset_symbol.split("/")[1] ?? "USD"}; empty: the account's free balance`}>
          <input inputMode="decimal" value={capital} onChange={(e) => setCapital(e.target.value)} />
        </Field>
      </div>
      <div className="row2">
        <Field label="Largest order" hint="Notional per order; empty: no limit">
          <input inputMode="decimal" value={maxOrder} onChange={(e) => setMaxOrder(e.target.value)} />
        </Field>
        <Field label="Daily limit" hint="Notional sent per UTC day; empty: no limit">
          <input inputMode="decimal" value={maxDaily} onChange={(e) => setMaxDaily(e.target.value)} />
        </Field>
      </div>
      {key?.exchange === "alpaca" && (
        <Field label="Orders while the market is closed">
          <select value={hours} onChange={(e) => setHours(e.target.value)}>
            <option value="hold">Hold them for the open</option>
            <option value="refuse">Refuse them</option>
            <option value="extended">Send them for extended hours</option>
          </select>
        </Field>
      )}
      <label className="check">
        <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.target.checked)} /> I understand that this strategy
        will place real orders with {key ? venue(key) : "my broker"} until I pause it or throw the kill switch.
      </label>
      <button className="danger-fill" disabled={!confirmed || act.isPending}>
        {act.isPending ? "Asking the venue…" : "Start live trading"}
      </button>
    </form>
  );
}

/** Shown in the header while the user has a live strategy: stops them all, cancels their orders. */
export function KillSwitch() {
  const qc = useQueryClient();
  const status = useTradingStatus();
  const [done, setDone] = useState<string | null>(null);
  const kill = useMutation({
    mutationFn: () => api<{ strategies_stopped: number; orders_cancelled: number; orders_not_sent: number; orders_unresolved: number }>("POST", "/trading/kill-switch"),
    onSuccess: (r) => {
      setDone(
        `Stopped ${r.strategies_stopped} live ${r.strategies_stopped === 1 ? "strategy" : "strategies"}, cancelled ${r.orders_cancelled} open ` +
          `${r.orders_cancelled === 1 ? "order" : "orders"}${r.orders_unresolved ? `; ${r.orders_unresolved} still being settled with the venue` : ""}.`,
      );
      void qc.invalidateQueries();
    },
  });
  if (done || kill.error)
    return (
      <span role="status" className="kill-result">
        {done ?? (kill.error instanceof ApiError ? kill.error.detail : String(kill.error))}{" "}
        <button type="button" className="link" onClick={() => (setDone(null), kill.reset())}>
          Dismiss
        </button>
      </span>
    );
  if (!status.data?.live_strategies) return null;
  return (
    <button
      type="button"
      className="danger-fill"
      disabled={kill.isPending}
      title="Stop every live strategy and cancel their open orders"
      onClick={() => confirm(`Stop all ${status.data.live_strategies} live strategies and cancel their open orders at the venue?`) && kill.mutate()}
    >
      {kill.isPending ? "Stopping…" : "Kill switch"}
    </button>
  );
}

type Leg = { entry_time: string | null; entry_price: string; quantity: string; exit_time: string | null; exit_price: string | null; fees: string; pnl: string | null };
type DriftRow = { n: number; backtest: Leg | null; real: Leg | null; entry_price_diff_bps?: number; exit_price_diff_bps?: number; fees_diff?: string; pnl_diff?: string };
type Drift = {
  mode: string;
  symbol: string;
  trades: DriftRow[];
  total: { backtest_trades: number; real_trades: number; matched: number; backtest_pnl: string; real_pnl: string; pnl_diff: string; backtest_fees: string; real_fees: string; avg_entry_diff_bps: number; avg_exit_diff_bps: number };
};

const bps = (v: number | undefined) => (v === undefined ? "—" : `${v > 0 ? "+" : ""}${v.toFixed(1)} bp`);
// Positive drift is worse for the trader: red.
const worse = (v: number | undefined) => (v === undefined || v === 0 ? "" : v > 0 ? "down" : "up");

/** The strategy's fills against a backtest over the same candles; nothing when it never ran. */
export function DriftReport({ id }: { id: string }) {
  const user = useUser();
  const d = useQuery({
    queryKey: ["strategy", id, "drift"],
    queryFn: () => get<Drift>(`/strategies/${id}/drift`),
    retry: (n, e) => !(e instanceof ApiError && e.status === 404) && n < 2,
  });
  if (d.error instanceof ApiError && d.error.status === 404) return null;
  if (d.isPending) return null;
  if (d.error || !d.data) return <ErrorBox error={d.error} />;
  const t = d.data.total;
  return (
    <Card title={`Drift: ${d.data.mode} fills against the backtest`}>
      <p className="small">
        {t.matched} of {t.backtest_trades} backtest round trips matched by {t.real_trades} real ones. Entries {bps(t.avg_entry_diff_bps)}, exits{" "}
        {bps(t.avg_exit_diff_bps)} on average (positive: worse for you). P&amp;L {num(t.real_pnl, 2)} against {num(t.backtest_pnl, 2)} backtested (
        <span className={trend(t.pnl_diff)}>{num(t.pnl_diff, 2)}</span>), fees {num(t.real_fees, 4)} against {num(t.backtest_fees, 4)}.
      </p>
      {d.data.trades.length > 0 && (
        <table>
          <thead>
            <tr>
              <th className="num">#</th>
              <th>Real entry</th>
              <th className="num">Entry price</th>
              <th className="num">Entry drift</th>
              <th className="num">Exit price</th>
              <th className="num">Exit drift</th>
              <th className="num">Fees diff</th>
              <th className="num">P&amp;L diff</th>
            </tr>
          </thead>
          <tbody>
            {d.data.trades.map((r) => (
              <tr key={r.n}>
                <td className="num">{r.n}</td>
                <td>{dateTime(r.real?.entry_time, user.timezone)}</td>
                <td className="num" title={`backtest ${r.backtest?.entry_price ?? "—"}`}>
                  {num(r.real?.entry_price)}
                </td>
                <td className={`num ${worse(r.entry_price_diff_bps)}`}>{bps(r.entry_price_diff_bps)}</td>
                <td className="num" title={`backtest ${r.backtest?.exit_price ?? "—"}`}>
                  {num(r.real?.exit_price)}
                </td>
                <td className={`num ${worse(r.exit_price_diff_bps)}`}>{bps(r.exit_price_diff_bps)}</td>
                <td className="num">{num(r.fees_diff, 6)}</td>
                <td className={`num ${trend(r.pnl_diff)}`}>{num(r.pnl_diff, 4)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Card>
  );
}
