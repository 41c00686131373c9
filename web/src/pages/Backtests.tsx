// Backtests: run one (strategy, dates, capital, costs) and watch its progress over the WebSocket
// with a cancel button; the result (metric cards, equity and drawdown, candles with the entries
// and exits marked, the trades sortable and paged, monthly returns); the list; two compared.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import type { SeriesMarker, Time } from "lightweight-charts";
import { api, download, exists, get, getAll, qs } from "../api";
import { useUser } from "../auth";
import { CandleChart, toTime } from "../components/CandleChart";
import { LineChart } from "../components/LineChart";
import { Card, Empty, ErrorBox, Field, Listing, Loading } from "../components/ui";
import { date, dateTime, num, pct, trend } from "../format";
import { useLive } from "../live";
import { drawdown, monthlyGrid, sortTrades, type SortKey } from "../results";
import type { Backtest, BacktestTrade, Candle, Page, Strategy, SymbolInfo } from "../types";

type Full = Backtest & { equity_curve?: { time: string; equity: number }[]; monthly_returns?: { month: string; return_pct: number }[] };

export function BacktestNew() {
  const [params] = useSearchParams();
  const nav = useNavigate();
  const strategies = useQuery({ queryKey: ["strategies", "all"], queryFn: () => get<Page<Strategy>>("/strategies?limit=100") });
  const symbols = useQuery({ queryKey: ["symbols"], queryFn: () => get<Page<SymbolInfo>>("/market/symbols") });
  const [sid, setSid] = useState(params.get("strategy") ?? "");
  const chosen = strategies.data?.items.find((s) => s.id === (sid || strategies.data?.items[0]?.id));
  const range = symbols.data?.items.find((x) => x.symbol === chosen?.asset_symbol);
  const [form, setForm] = useState({ start_date: "", end_date: "", initial_capital: "10000", commission_pct: "0.1", slippage_pct: "0" });
  const run = useMutation({
    mutationFn: () =>
      api<Backtest>("POST", "/backtests", {
        strategy_id: chosen!.id,
        ...(form.start_date ? { start_date: form.start_date } : {}),
        ...(form.end_date ? { end_date: form.end_date } : {}),
        initial_capital: Number(form.initial_capital),
        commission_pct: Number(form.commission_pct),
        slippage_pct: Number(form.slippage_pct),
      }),
    onSuccess: (b) => nav(`/backtests/${b.id}`),
  });
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const fieldErr = (f: string) => (run.error && "errors" in run.error ? (run.error as { errors: { field: string; message: string }[] }).errors.find((x) => x.field.replace(/^\//, "") === f)?.message : undefined);
  if (strategies.isPending) return <Loading />;
  if (!strategies.data?.items.length)
    return (
      <div className="page">
        <h1>Run a backtest</h1>
        <Empty>
          First <Link to="/strategies/new">build a strategy</Link>.
        </Empty>
      </div>
    );
  return (
    <div className="page">
      <h1>Run a backtest</h1>
      <Card>
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            run.mutate();
          }}
        >
          <ErrorBox error={run.error && !fieldErr("start_date") && !fieldErr("end_date") ? run.error : null} />
          <Field label="Strategy">
            <select value={chosen?.id} onChange={(e) => setSid(e.target.value)}>
              {strategies.data.items.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name} ({s.asset_symbol} {s.timeframe})
                </option>
              ))}
            </select>
          </Field>
          <p className="muted small">
            {range ? `${range.candles.toLocaleString()} ${range.timeframe} candles of ${range.symbol} stored, ${date(range.first, "UTC")} to ${date(range.last, "UTC")}.` : `No candles of ${chosen?.asset_symbol} are stored.`}
          </p>
          <div className="row2">
            <Field label="From" error={fieldErr("start_date")} hint="Empty: the first stored candle">
              <input type="date" value={form.start_date} min={range ? date(range.first, "UTC") : undefined} onChange={set("start_date")} />
            </Field>
            <Field label="To" error={fieldErr("end_date")} hint="Empty: the last stored candle">
              <input type="date" value={form.end_date} max={range ? date(range.last, "UTC") : undefined} onChange={set("end_date")} />
            </Field>
          </div>
          <div className="row3">
            <Field label="Initial capital" error={fieldErr("initial_capital")}>
              <input type="number" min={1} step="any" value={form.initial_capital} onChange={set("initial_capital")} />
            </Field>
            <Field label="Commission %" error={fieldErr("commission_pct")} hint="per fill">
              <input type="number" min={0} max={10} step="any" value={form.commission_pct} onChange={set("commission_pct")} />
            </Field>
            <Field label="Slippage %" error={fieldErr("slippage_pct")}>
              <input type="number" min={0} max={10} step="any" value={form.slippage_pct} onChange={set("slippage_pct")} />
            </Field>
          </div>
          <button className="primary" disabled={run.isPending}>
            {run.isPending ? "Starting…" : "Run the backtest"}
          </button>
        </form>
      </Card>
    </div>
  );
}

const METRICS: [keyof Backtest | string, string, (v: unknown, b: Full) => string][] = [
  ["total_return_pct", "Total return", (v) => pct(v as number)],
  ["final_capital", "Final capital", (v) => num(v as string, 2)],
  ["cagr_pct", "CAGR", (v) => pct(v as number)],
  ["sharpe_ratio", "Sharpe", (v) => num(v as number, 2)],
  ["sortino_ratio", "Sortino", (v) => num(v as number, 2)],
  ["max_drawdown_pct", "Max drawdown", (v) => pct(v === null || v === undefined ? null : -(v as number))],
  ["win_rate_pct", "Win rate", (v) => `${num(v as number, 1)} %`],
  ["total_trades", "Trades", (v) => String(v ?? "—")],
  ["profit_factor", "Profit factor", (v) => num(v as number, 2)],
  ["exposure_pct", "Time in market", (v) => `${num(v as number, 1)} %`],
];

function Progress({ b }: { b: Backtest }) {
  const qc = useQueryClient();
  const [live, setLive] = useState<{ pct: number; date?: string } | null>(null);
  useLive({ channel: "backtest_progress", backtest_id: b.id }, (e) => {
    if (e.channel !== "backtest_progress" || e.data.backtest_id !== b.id) return;
    setLive({ pct: e.data.progress_pct as number, date: e.data.current_date as string | undefined });
    if (e.data.status === "completed" || e.data.status === "failed") void qc.invalidateQueries({ queryKey: ["backtest", b.id] });
  });
  const cancel = useMutation({ mutationFn: () => api("DELETE", `/backtests/${b.id}`), onSuccess: () => qc.invalidateQueries({ queryKey: ["backtest", b.id] }) });
  const p = live?.pct ?? b.progress_pct ?? 0;
  return (
    <Card title="Running">
      <progress max={100} value={p} aria-label="Backtest progress" />
      <p className="small" role="status">
        {Math.round(p)} %{live?.date ? ` · at ${date(live.date, "UTC")}` : ""} · {b.status}
      </p>
      <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
        Cancel
      </button>
      <ErrorBox error={cancel.error} />
    </Card>
  );
}

/** A backtest's money is in the instrument's quote currency, not the user's: plain numbers. */
function Trades({ id, timeZone }: { id: string; timeZone: string }) {
  const trades = useQuery({ queryKey: ["backtest", id, "trades"], queryFn: () => getAll<BacktestTrade>(`/backtests/${id}/trades`) });
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "entry_time", desc: false });
  const [page, setPage] = useState(0);
  const PER = 20;
  const sorted = useMemo(() => sortTrades(trades.data ?? [], sort.key, sort.desc), [trades.data, sort]);
  const head = (key: SortKey, label: string, numeric = false) => (
    <th className={numeric ? "num" : ""} aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button type="button" className="link" onClick={() => setSort({ key, desc: sort.key === key ? !sort.desc : key !== "entry_time" })}>
        {label} {sort.key === key ? (sort.desc ? "▼" : "▲") : ""}
      </button>
    </th>
  );
  if (trades.isPending) return <Loading what="Loading trades" />;
  const pages = Math.max(1, Math.ceil(sorted.length / PER));
  return (
    <Card title={`Trades (${sorted.length})`}>
      <ErrorBox error={trades.error} />
      {!sorted.length ? (
        <Empty>No trade in this backtest.</Empty>
      ) : (
        <>
          <div className="scroll">
            <table data-testid="trades">
              <thead>
                <tr>
                  {head("entry_time", "Entry")}
                  {head("exit_time", "Exit")}
                  <th>Side</th>
                  {head("quantity", "Quantity", true)}
                  {head("entry_price", "Entry price", true)}
                  {head("exit_price", "Exit price", true)}
                  {head("net_pnl", "Net P&L", true)}
                  {head("return_pct", "Return", true)}
                  <th>Exit reason</th>
                </tr>
              </thead>
              <tbody>
                {sorted.slice(page * PER, page * PER + PER).map((t, i) => (
                  <tr key={`${t.entry_time}-${i}`}>
                    <td>{dateTime(t.entry_time, timeZone)}</td>
                    <td>{dateTime(t.exit_time, timeZone)}</td>
                    <td>{t.side}</td>
                    <td className="num">{num(t.quantity)}</td>
                    <td className="num">{num(t.entry_price)}</td>
                    <td className="num">{num(t.exit_price)}</td>
                    <td className={`num ${trend(t.net_pnl)}`}>{num(t.net_pnl, 2)}</td>
                    <td className={`num ${trend(t.return_pct)}`}>{pct(t.return_pct)}</td>
                    <td>{t.exit_reason ?? "open"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {pages > 1 && (
            <nav className="pager" aria-label="Trade pages">
              <button type="button" disabled={page === 0} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <span className="small">
                page {page + 1} of {pages}
              </span>
              <button type="button" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </nav>
          )}
        </>
      )}
    </Card>
  );
}

function Monthly({ months }: { months: { month: string; return_pct: number }[] }) {
  const grid = monthlyGrid(months);
  if (!grid.length) return null;
  const shade = (v: number | null) => {
    if (v === null) return undefined;
    const a = Math.min(0.85, Math.abs(v) / 15 + 0.08);
    return { background: v >= 0 ? `rgba(34,197,94,${a})` : `rgba(239,68,68,${a})` };
  };
  return (
    <Card title="Monthly returns">
      <div className="scroll">
        <table className="heatmap">
          <thead>
            <tr>
              <th>Year</th>
              {"Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ").map((m) => (
                <th key={m} className="num">
                  {m}
                </th>
              ))}
              <th className="num">Year</th>
            </tr>
          </thead>
          <tbody>
            {grid.map((r) => (
              <tr key={r.year}>
                <th>{r.year}</th>
                {r.cells.map((c, i) => (
                  <td key={i} className="num" style={shade(c)} title={c === null ? "no data" : `${c.toFixed(2)} %`}>
                    {c === null ? "" : c.toFixed(1)}
                  </td>
                ))}
                <td className={`num ${trend(r.total)}`}>{r.total.toFixed(1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

export function BacktestResult() {
  const { id = "" } = useParams();
  const user = useUser();
  const b = useQuery({
    queryKey: ["backtest", id],
    queryFn: () => get<Full>(`/backtests/${id}`),
    // While it runs, the WebSocket says when it is done; a slow poll covers a lost socket.
    refetchInterval: (q) => (q.state.data && ["pending", "running"].includes(q.state.data.status) ? 5000 : false),
  });
  const strategy = useQuery({ queryKey: ["strategy", b.data?.strategy_id], enabled: !!b.data, queryFn: () => get<Strategy>(`/strategies/${b.data!.strategy_id}`) });
  const done = b.data?.status === "completed";
  const equity = useMemo(() => (b.data?.equity_curve ?? []).map((p) => ({ time: p.time, value: p.equity })), [b.data]);
  const trades = useQuery({ queryKey: ["backtest", id, "trades"], enabled: done, queryFn: () => getAll<BacktestTrade>(`/backtests/${id}/trades`) });
  const st = strategy.data;
  const first = equity[0]?.time;
  const last = equity[equity.length - 1]?.time;
  const candles = useQuery({
    queryKey: ["ohlcv", st?.asset_symbol, st?.timeframe, first, last],
    enabled: done && !!st && !!first,
    queryFn: () => get<{ items: Candle[] }>(`/market/ohlcv/${st!.asset_symbol}${qs({ timeframe: st!.timeframe, start: date(first, "UTC"), limit: 10000 })}`),
  });
  const markers = useMemo<SeriesMarker<Time>[]>(
    () =>
      (trades.data ?? [])
        .flatMap((t) => [
          { time: toTime(t.entry_time), position: "belowBar" as const, color: "#22c55e", shape: "arrowUp" as const, text: "buy" },
          ...(t.exit_time ? [{ time: toTime(t.exit_time), position: "aboveBar" as const, color: "#f87171", shape: "arrowDown" as const, text: t.exit_reason ?? "sell" }] : []),
        ])
        .sort((a, c) => (a.time as number) - (c.time as number)),
    [trades.data],
  );
  const series = useMemo(() => [{ name: "equity", color: "#38bdf8", points: equity }], [equity]);
  // The PDF report, once the server makes one for this backtest.
  const report = useQuery({ queryKey: ["backtest", id, "report"], enabled: done, retry: false, queryFn: () => exists(`/backtests/${id}/report`) });
  const dd = useMemo(() => [{ name: "drawdown", color: "#f87171", points: drawdown(equity), area: true }], [equity]);
  if (b.isPending) return <Loading what="Loading the backtest" />;
  if (b.error || !b.data) return <ErrorBox error={b.error} />;
  const r = b.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>
          Backtest {st ? `of “${st.name}”` : ""} <small className="muted">{st ? `${st.asset_symbol} ${st.timeframe}` : ""}</small>
        </h1>
        <div className="inline">
          {st && (
            <Link className="button" to={`/backtests/new?strategy=${st.id}`}>
              Run again
            </Link>
          )}
          <Link className="button" to={`/backtests/compare?a=${id}`}>
            Compare…
          </Link>
          {report.data && (
            <button type="button" onClick={() => void download(`/backtests/${id}/report`, `backtest-${id}.pdf`)}>
              PDF report
            </button>
          )}
        </div>
      </div>
      {["pending", "running"].includes(r.status) && <Progress b={r} />}
      {r.status === "failed" && <ErrorBox error={r.error_message ?? "the backtest failed"} />}
      {r.status === "cancelled" && <p className="muted">Cancelled.</p>}
      {done && (
        <>
          <div className="stats metrics" data-testid="metrics">
            {METRICS.map(([k, label, f]) => (
              <div className="stat" key={k}>
                <div className="stat-label">{label}</div>
                <div className={`stat-value ${k === "total_return_pct" ? trend(r.total_return_pct) : ""}`}>{f((r as Record<string, unknown>)[k], r)}</div>
              </div>
            ))}
          </div>
          <p className="muted small">
            {date(first, user.timezone)} to {date(last, user.timezone)} · capital {num(r.initial_capital, 2)} · commission {r.commission_pct} % · slippage {r.slippage_pct} % · fills at the next candle's open
          </p>
          <Card title="Equity">
            <LineChart series={series} timeZone={user.timezone} label="Equity curve" />
          </Card>
          <Card title="Drawdown">
            <LineChart series={dd} timeZone={user.timezone} height={180} label="Drawdown" percent />
          </Card>
          <Card title="Candles with entries and exits">
            {candles.isPending ? <Loading what="Loading candles" /> : <CandleChart candles={candles.data?.items ?? []} markers={markers} timeZone={user.timezone} label="Candles with trades marked" />}
          </Card>
          <Trades id={id} timeZone={user.timezone} />
          <Monthly months={r.monthly_returns ?? []} />
        </>
      )}
    </div>
  );
}

export function BacktestList() {
  const user = useUser();
  const list = useQuery({ queryKey: ["backtests"], queryFn: () => get<Page<Backtest>>("/backtests?limit=100") });
  const strategies = useQuery({ queryKey: ["strategies", "all"], queryFn: () => get<Page<Strategy>>("/strategies?limit=100") });
  const name = (sid: string) => strategies.data?.items.find((s) => s.id === sid)?.name ?? "(deleted strategy)";
  return (
    <div className="page">
      <div className="page-head">
        <h1>Backtests</h1>
        <Link className="button primary" to="/backtests/new">
          Run a backtest
        </Link>
      </div>
      <Listing pending={list.isPending} error={list.error} count={list.data?.items.length ?? 0} empty="No backtest yet.">
        <table>
          <thead>
            <tr>
              <th>When</th>
              <th>Strategy</th>
              <th>Status</th>
              <th className="num">Return</th>
              <th className="num">Max drawdown</th>
              <th className="num">Trades</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((b) => (
              <tr key={b.id}>
                <td>
                  <Link to={`/backtests/${b.id}`}>{dateTime(b.created_at, user.timezone)}</Link>
                </td>
                <td>{name(b.strategy_id)}</td>
                <td>{b.status}</td>
                <td className={`num ${trend(b.total_return_pct)}`}>{pct(b.total_return_pct)}</td>
                <td className="num">{b.max_drawdown_pct === null ? "—" : pct(-b.max_drawdown_pct)}</td>
                <td className="num">{b.total_trades ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Listing>
    </div>
  );
}

export function BacktestCompare() {
  const [params, setParams] = useSearchParams();
  const user = useUser();
  const list = useQuery({ queryKey: ["backtests"], queryFn: () => get<Page<Backtest>>("/backtests?limit=100&status=completed") });
  const ids = [params.get("a") ?? "", params.get("b") ?? ""];
  const a = useQuery({ queryKey: ["backtest", ids[0]], enabled: !!ids[0], queryFn: () => get<Full>(`/backtests/${ids[0]}`) });
  const b = useQuery({ queryKey: ["backtest", ids[1]], enabled: !!ids[1], queryFn: () => get<Full>(`/backtests/${ids[1]}`) });
  const series = useMemo(
    () =>
      [a.data, b.data]
        .map((x, i) => (x ? { name: i ? "B" : "A", color: i ? "#f59e0b" : "#38bdf8", points: (x.equity_curve ?? []).map((p) => ({ time: p.time, value: p.equity })) } : null))
        .filter((x): x is NonNullable<typeof x> => !!x),
    [a.data, b.data],
  );
  const pick = (k: "a" | "b") => (
    <select
      aria-label={`Backtest ${k.toUpperCase()}`}
      value={params.get(k) ?? ""}
      onChange={(e) => {
        const p = new URLSearchParams(params);
        p.set(k, e.target.value);
        setParams(p, { replace: true });
      }}
    >
      <option value="">choose…</option>
      {list.data?.items.map((x) => (
        <option key={x.id} value={x.id}>
          {dateTime(x.created_at, user.timezone)} · {pct(x.total_return_pct)}
        </option>
      ))}
    </select>
  );
  return (
    <div className="page">
      <h1>Compare backtests</h1>
      <div className="row2">
        <Field label="A">{pick("a")}</Field>
        <Field label="B">{pick("b")}</Field>
      </div>
      {a.data && b.data ? (
        <>
          <Card>
            <table>
              <thead>
                <tr>
                  <th />
                  <th className="num">A</th>
                  <th className="num">B</th>
                </tr>
              </thead>
              <tbody>
                {METRICS.map(([k, label, f]) => (
                  <tr key={k}>
                    <th>{label}</th>
                    <td className="num">{f((a.data as Record<string, unknown>)[k], a.data)}</td>
                    <td className="num">{f((b.data as Record<string, unknown>)[k], b.data)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Card>
          <Card title="Equity">
            <LineChart series={series} timeZone={user.timezone} label="Equity of A and B" />
          </Card>
        </>
      ) : (
        <Empty>Choose two completed backtests.</Empty>
      )}
    </div>
  );
}
