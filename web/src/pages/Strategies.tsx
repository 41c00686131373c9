// The user's strategies: the list, and one strategy with its actions (edit, clone, delete,
// backtest, activate in paper mode on a chosen portfolio or live with a broker key, pause), its
// drift report and its versions.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useNavigate, useParams } from "react-router-dom";
import { api, get, qs } from "../api";
import { useUser } from "../auth";
import { describe, fromDocument } from "../builder/model";
import { Card, Empty, ErrorBox, Listing, Loading } from "../components/ui";
import { dateTime, pct } from "../format";
import { useLive } from "../live";
import type { Backtest, Page, Portfolio, Strategy } from "../types";
import { DriftReport, LiveActivate, useTradingStatus } from "./LiveTrading";

export function Strategies() {
  const user = useUser();
  const list = useQuery({ queryKey: ["strategies", "all"], queryFn: () => get<Page<Strategy>>("/strategies?limit=100") });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Strategies</h1>
        <Link className="button primary" to="/strategies/new">
          New strategy
        </Link>
      </div>
      <Listing
        pending={list.isPending}
        error={list.error}
        count={list.data?.items.length ?? 0}
        empty={
          <>
            No strategy yet. <Link to="/strategies/new">Build one</Link>: pick indicators, compare them, and backtest it in a click.
          </>
        }
      >
        <table>
          <thead>
            <tr>
              <th>Name</th>
              <th>Pair</th>
              <th>Timeframe</th>
              <th>Status</th>
              <th className="num">Version</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.items.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link to={`/strategies/${s.id}`}>{s.name}</Link>
                </td>
                <td>{s.asset_symbol}</td>
                <td>{s.timeframe}</td>
                <td>
                  <span className={`tag status-${s.status}`}>{s.status}</span> {s.trading_mode ?? ""}
                </td>
                <td className="num">{s.version}</td>
                <td>{dateTime(s.updated_at, user.timezone)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Listing>
    </div>
  );
}

type Version = { version: number; name: string; created_at: string };

type Run = { portfolio_id: string; mode: string; status: string; error?: string | null };

function Activate({ s }: { s: Strategy }) {
  const qc = useQueryClient();
  const status = useTradingStatus();
  const portfolios = useQuery({ queryKey: ["portfolios"], queryFn: () => get<Page<Portfolio>>("/portfolios?limit=100") });
  const run = useQuery({ queryKey: ["strategy", s.id, "run", s.status], queryFn: () => get<Run>(`/strategies/${s.id}/run`), retry: false });
  const paper = (portfolios.data?.items ?? []).filter((p) => p.is_paper);
  const [pid, setPid] = useState("");
  const [mode, setMode] = useState<"paper" | "live">("paper");
  const act = useMutation({
    mutationFn: () => api<Strategy>("POST", `/strategies/${s.id}/activate`, { mode: "paper", ...(pid ? { portfolio_id: pid } : {}) }),
    onSuccess: () => qc.invalidateQueries(),
  });
  const pause = useMutation({ mutationFn: () => api<Strategy>("POST", `/strategies/${s.id}/deactivate`), onSuccess: () => qc.invalidateQueries() });
  const portfolio = run.data && (
    <Link to={`/portfolios/${run.data.portfolio_id}`}>{run.data.mode === "live" ? "Live orders and positions" : "Its portfolio"}</Link>
  );
  if (s.status === "active")
    return (
      <div className="inline">
        <span className={`tag status-active${s.trading_mode === "live" ? " live" : ""}`}>active · {s.trading_mode}</span>
        <button type="button" onClick={() => pause.mutate()} disabled={pause.isPending}>
          Pause trading
        </button>
        {portfolio}
        <ErrorBox error={pause.error} />
      </div>
    );
  const live = status.data?.live_trading_enabled;
  return (
    <>
      {run.data?.error && <div className="error">The last run stopped: {run.data.error}</div>}
      {portfolio && <p className="small">{portfolio} (last run)</p>}
      <div className="seg" role="group" aria-label="Trading mode">
        <button type="button" aria-pressed={mode === "paper"} onClick={() => setMode("paper")}>
          Paper
        </button>
        <button type="button" aria-pressed={mode === "live"} onClick={() => setMode("live")} disabled={!live}
                title={live ? "Real orders with a broker key" : "This server does not trade live (FEATURE_LIVE_TRADING=true enables it)"}>
          Live
        </button>
      </div>
      {mode === "live" && live ? (
        <LiveActivate s={s} />
      ) : (
        <div className="inline">
          <label>
            <span className="sr-only">Paper portfolio</span>
            <select aria-label="Paper portfolio" value={pid} onChange={(e) => setPid(e.target.value)}>
              <option value="">{paper.length ? "the default paper portfolio" : "a new paper portfolio"}</option>
              {paper.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} ({p.base_currency})
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="primary" onClick={() => act.mutate()} disabled={act.isPending}>
            {act.isPending ? "Activating…" : "Activate in paper mode"}
          </button>
          <ErrorBox error={act.error} />
        </div>
      )}
    </>
  );
}

type Refusal = { time: string; kind: string; detail: string; quantity: string | null };

/** Orders the pre-trade checks refused (limits, funds, market hours), newest first, as they happen. */
function Refusals({ id, timeZone }: { id: string; timeZone: string }) {
  const qc = useQueryClient();
  const r = useQuery({ queryKey: ["strategy", id, "refusals"], queryFn: () => get<Page<Refusal>>(`/strategies/${id}/refusals?limit=10`) });
  useLive({ channel: "strategy" }, (e) => {
    if (e.data.strategy_id === id && e.data.event !== "signal") void qc.invalidateQueries({ queryKey: ["strategy", id, "refusals"] });
  });
  if (!r.data?.total) return null;
  return (
    <Card title={`Refused orders (${r.data.total})`}>
      <table>
        <thead>
          <tr>
            <th>Time</th>
            <th>Check</th>
            <th>Why</th>
          </tr>
        </thead>
        <tbody>
          {r.data.items.map((x, i) => (
            <tr key={i}>
              <td>{dateTime(x.time, timeZone)}</td>
              <td>{x.kind.replace(/_/g, " ")}</td>
              <td>{x.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}

/** One version: open to read its document; restoring saves it again as the newest version. */
function VersionRow({ id, v, current, timeZone }: { id: string; v: Version; current: boolean; timeZone: string }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const doc = useQuery({ queryKey: ["strategy", id, "version", v.version], enabled: open, queryFn: () => get<{ definition: unknown }>(`/strategies/${id}/versions/${v.version}`) });
  const restore = useMutation({
    mutationFn: async () => api<Strategy>("PUT", `/strategies/${id}`, (await get<{ definition: unknown }>(`/strategies/${id}/versions/${v.version}`)).definition),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["strategy", id] }),
  });
  return (
    <li>
      <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)}>
        v{v.version}
      </button>{" "}
      · {v.name} · {dateTime(v.created_at, timeZone)} {current && <span className="tag">current</span>}
      {!current && (
        <button type="button" className="link" onClick={() => restore.mutate()} disabled={restore.isPending}>
          Restore as the newest version
        </button>
      )}
      <ErrorBox error={restore.error ?? doc.error} />
      {open && (doc.isPending ? <Loading /> : <pre className="json">{JSON.stringify(doc.data?.definition, null, 2)}</pre>)}
    </li>
  );
}

export function StrategyDetail() {
  const { id = "" } = useParams();
  const user = useUser();
  const nav = useNavigate();
  const qc = useQueryClient();
  const saved = (useLocation().state as { saved?: boolean } | null)?.saved;
  const s = useQuery({ queryKey: ["strategy", id], queryFn: () => get<Strategy & { definition: unknown }>(`/strategies/${id}`) });
  const versions = useQuery({ queryKey: ["strategy", id, "versions"], queryFn: () => get<Page<Version>>(`/strategies/${id}/versions?limit=20`) });
  const backtests = useQuery({
    queryKey: ["backtests", "of", id],
    queryFn: async () => (await get<Page<Backtest>>(`/backtests${qs({ limit: 100 })}`)).items.filter((b) => b.strategy_id === id),
  });
  const clone = useMutation({
    mutationFn: () => api<Strategy>("POST", `/strategies/${id}/clone`),
    onSuccess: (c) => {
      void qc.invalidateQueries({ queryKey: ["strategies"] });
      nav(`/strategies/${c.id}`);
    },
  });
  const del = useMutation({
    mutationFn: () => api("DELETE", `/strategies/${id}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["strategies"] });
      nav("/strategies");
    },
  });
  if (s.isPending) return <Loading />;
  if (s.error || !s.data) return <ErrorBox error={s.error} />;
  let words: string[] = [];
  try {
    const m = fromDocument(s.data.definition);
    words = m.rules.map(
      (r) => `${m.entry.includes(r.id ?? "") ? "Buy" : m.exit.includes(r.id ?? "") ? "Sell" : r.signal} when ${r.conditions.map(describe).join(` ${r.logic ?? "AND"} `)}`,
    );
  } catch {
    /* shown as JSON only */
  }
  const st = s.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>{st.name}</h1>
        <div className="inline">
          <Link className="button" to={`/strategies/${id}/edit`}>
            Edit
          </Link>
          <Link className="button" to={`/backtests/new?strategy=${id}`}>
            Backtest
          </Link>
          <button type="button" onClick={() => clone.mutate()} disabled={clone.isPending}>
            Clone
          </button>
          <button type="button" className="danger" onClick={() => confirm(`Delete “${st.name}” and its versions?`) && del.mutate()}>
            Delete
          </button>
        </div>
      </div>
      {saved && (
        <p role="status" className="up">
          Saved as version {st.version}.
        </p>
      )}
      <ErrorBox error={clone.error ?? del.error} />
      <Card title="Trading">
        <p className="muted small">
          {st.asset_symbol} · {st.timeframe} · version {st.version} · {st.status}
          {st.activated_at ? ` since ${dateTime(st.activated_at, user.timezone)}` : ""}
        </p>
        <Activate s={st} />
      </Card>
      <Refusals id={id} timeZone={user.timezone} />
      <DriftReport id={id} />
      <Card title="Rules">
        <ul>
          {words.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      </Card>
      <Card title="Backtests">
        {!backtests.data?.length ? (
          <Empty>
            None yet. <Link to={`/backtests/new?strategy=${id}`}>Run one</Link>.
          </Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th className="num">Return</th>
                <th className="num">Trades</th>
              </tr>
            </thead>
            <tbody>
              {backtests.data.map((b) => (
                <tr key={b.id}>
                  <td>
                    <Link to={`/backtests/${b.id}`}>{dateTime(b.created_at, user.timezone)}</Link>
                  </td>
                  <td>{b.status}</td>
                  <td className="num">{pct(b.total_return_pct)}</td>
                  <td className="num">{b.total_trades ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      <Card title="Versions">
        <ErrorBox error={versions.error} />
        <ul className="versions small">
          {versions.data?.items.map((v) => (
            <VersionRow key={v.version} id={id} v={v} current={v.version === st.version} timeZone={user.timezone} />
          ))}
        </ul>
      </Card>
      <details>
        <summary>Strategy document (JSON)</summary>
        <pre className="json">{JSON.stringify(st.definition, null, 2)}</pre>
      </details>
    </div>
  );
}
