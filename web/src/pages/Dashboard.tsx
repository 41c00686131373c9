// The dashboard: each portfolio's equity and return in its currency, open positions, recent
// trades, active strategies and live prices. Trades and portfolio values arrive over the
// WebSocket (channels trade and portfolio) and the lists refresh when they do: no reload.
import { zodResolver } from "@hookform/resolvers/zod";
import { useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { api, get, qs } from "../api";
import { useUser } from "../auth";
import { PositionsTable, TradesTable } from "../components/tables";
import { Card, Empty, ErrorBox, Field, Loading } from "../components/ui";
import { useSubmit } from "../forms";
import { dateTime, money, num, pct, trend } from "../format";
import { useLive, type LiveEvent } from "../live";
import type { Page, Performance, Portfolio, PortfolioTrade, Position, Strategy } from "../types";

type Live = { equity: string; cash: string; time: string };

const portfolioSchema = z.object({
  name: z.string().trim().min(1, "Name it").max(100),
  base_currency: z.enum(["USD", "EUR"]),
  initial_balance: z
    .string()
    .trim()
    .regex(/^\d+(\.\d{1,2})?$/, "A positive amount with at most 2 decimals")
    .refine((v) => Number(v) > 0, "A positive amount"),
});

/** A new paper portfolio in USD or EUR (the currencies portfolios are kept in). */
function NewPortfolio({ currency, onDone }: { currency: string; onDone: () => void }) {
  const qc = useQueryClient();
  const f = useForm<z.infer<typeof portfolioSchema>>({
    resolver: zodResolver(portfolioSchema),
    defaultValues: { name: "Paper", base_currency: currency === "EUR" ? "EUR" : "USD", initial_balance: "10000" },
  });
  const { onSubmit, error } = useSubmit(f, ["name", "base_currency", "initial_balance"], async (v) => {
    await api("POST", "/portfolios", { ...v, is_paper: true });
    await qc.invalidateQueries({ queryKey: ["portfolios"] });
    onDone();
  });
  return (
    <form noValidate onSubmit={onSubmit} className="inline-form" aria-label="New paper portfolio">
      <ErrorBox error={error} />
      <div className="row3">
        <Field label="Portfolio name" error={f.formState.errors.name}>
          <input {...f.register("name")} />
        </Field>
        <Field label="Currency" error={f.formState.errors.base_currency}>
          <select {...f.register("base_currency")}>
            <option>USD</option>
            <option>EUR</option>
          </select>
        </Field>
        <Field label="Starting cash" error={f.formState.errors.initial_balance}>
          <input inputMode="decimal" {...f.register("initial_balance")} />
        </Field>
      </div>
      <button className="primary" disabled={f.formState.isSubmitting}>
        Create
      </button>
    </form>
  );
}

function PortfolioCard({ p, live }: { p: Portfolio; live?: Live }) {
  const perf = useQuery({ queryKey: ["performance", p.id], queryFn: () => get<Performance>(`/portfolios/${p.id}/performance`) });
  const equity = live?.equity ?? perf.data?.current_equity ?? p.cash_balance;
  const ret = live && perf.data ? ((Number(live.equity) / Number(perf.data.initial_balance) - 1) * 100).toFixed(4) : perf.data?.total_return_pct;
  const pnl = perf.data ? (Number(equity) - Number(perf.data.initial_balance)).toFixed(8) : null;
  return (
    <div className="stat" data-testid="portfolio-card">
      <div className="stat-label">
        <Link to={`/portfolios/${p.id}`}>{p.name}</Link> {p.is_paper && <span className="tag">paper</span>}
      </div>
      <div className="stat-value" data-testid="equity">
        {money(equity, p.base_currency)}
      </div>
      <div className={`stat-sub ${trend(ret)}`}>
        {pct(ret)} · P&amp;L {money(pnl, p.base_currency)}
      </div>
    </div>
  );
}

export function Dashboard() {
  const user = useUser();
  const qc = useQueryClient();
  const portfolios = useQuery({ queryKey: ["portfolios"], queryFn: () => get<Page<Portfolio>>("/portfolios?limit=100") });
  const list = portfolios.data?.items ?? [];
  const positions = useQueries({
    queries: list.map((p) => ({
      queryKey: ["positions", p.id],
      queryFn: () => get<Page<Position>>(`/portfolios/${p.id}/positions?limit=100`),
    })),
  });
  const trades = useQueries({
    queries: list.map((p) => ({
      queryKey: ["trades", p.id, "recent"],
      queryFn: () => get<Page<PortfolioTrade>>(`/portfolios/${p.id}/trades?limit=10`),
    })),
  });
  const strategies = useQuery({
    queryKey: ["strategies", "active"],
    queryFn: () => get<Page<Strategy>>(`/strategies${qs({ status: "active", limit: 100 })}`),
  });

  const open = positions.flatMap((q) => q.data?.items ?? []).filter((x) => x.is_open);
  const recent = trades
    .flatMap((q) => q.data?.items ?? [])
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, 10);
  const currency = (pid: string) => list.find((p) => p.id === pid)?.base_currency ?? user.preferred_currency;
  const symbols = useMemo(
    () => [...new Set([...open.map((x) => x.symbol), ...(strategies.data?.items ?? []).map((s) => s.asset_symbol)])].sort().slice(0, 20),
    [open, strategies.data],
  );

  const [adding, setAdding] = useState(false);
  // Live: portfolio values as they change, prices, and the user's orders.
  const [live, setLive] = useState<Record<string, Live>>({});
  const [prices, setPrices] = useState<Record<string, { price: string; change: number | null; time: string }>>({});
  const onEvent = (e: LiveEvent) => {
    const d = e.data as Record<string, string>;
    if (e.channel === "portfolio") setLive((m) => ({ ...m, [d.portfolio_id]: { equity: d.equity_value, cash: d.cash_balance, time: d.timestamp } }));
    else if (e.channel === "ticker")
      setPrices((m) => ({ ...m, [d.symbol]: { price: String(d.price), change: (e.data.change_24h_pct as number) ?? null, time: d.timestamp } }));
    else if (e.channel === "trade") {
      void qc.invalidateQueries({ queryKey: ["trades"] });
      void qc.invalidateQueries({ queryKey: ["positions"] });
      void qc.invalidateQueries({ queryKey: ["performance"] });
    }
  };
  useLive({ channel: "trade" }, onEvent);
  useLive(symbols.length ? { channel: "ticker", symbols } : null, onEvent);

  if (portfolios.isPending) return <Loading what="Loading your portfolios" />;
  return (
    <div className="page">
      <h1>Dashboard</h1>
      <PortfolioSubs ids={list.map((p) => p.id)} fn={onEvent} />
      <ErrorBox error={portfolios.error} />
      <Card
        title="Portfolios"
        actions={
          <button type="button" aria-expanded={adding} onClick={() => setAdding(!adding)}>
            {adding ? "Close" : "+ Paper portfolio"}
          </button>
        }
      >
        {adding && <NewPortfolio currency={user.preferred_currency} onDone={() => setAdding(false)} />}
        {list.length === 0 ? (
          <Empty>
            No portfolio yet. Activating a strategy in paper mode creates one of 10,000 {user.preferred_currency}.
          </Empty>
        ) : (
          <div className="stats">
            {list.map((p) => (
              <PortfolioCard key={p.id} p={p} live={live[p.id]} />
            ))}
          </div>
        )}
      </Card>
      <div className="grid2">
        <Card title="Open positions">
          {open.length === 0 ? (
            <Empty>No open position.</Empty>
          ) : (
            <PositionsTable positions={open} prices={Object.fromEntries(Object.entries(prices).map(([k, v]) => [k, v.price]))} timeZone={user.timezone} />
          )}
        </Card>
        <Card title="Live prices">
          {symbols.length === 0 ? (
            <Empty>Prices of your positions and active strategies' pairs show here.</Empty>
          ) : (
            <ul className="tickers">
              {symbols.map((s) => (
                <li key={s}>
                  <Link to={`/market?symbol=${encodeURIComponent(s)}`}>{s}</Link>
                  <span className="num">{prices[s] ? num(prices[s].price) : "…"}</span>
                  <span className={`num ${trend(prices[s]?.change)}`}>{prices[s] ? pct(prices[s].change) : ""}</span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
      <Card title="Recent trades">
        {recent.length === 0 ? (
          <Empty>No trade yet.</Empty>
        ) : (
          <TradesTable trades={recent} currency={currency} timeZone={user.timezone} testId="recent-trades" />
        )}
      </Card>
      <Card title="Active strategies">
        <ErrorBox error={strategies.error} />
        {(strategies.data?.items.length ?? 0) === 0 ? (
          <Empty>No active strategy.</Empty>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Pair</th>
                <th>Timeframe</th>
                <th>Mode</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              {strategies.data?.items.map((s) => (
                <tr key={s.id}>
                  <td>{s.name}</td>
                  <td>{s.asset_symbol}</td>
                  <td>{s.timeframe}</td>
                  <td>{s.trading_mode ?? "—"}</td>
                  <td>{dateTime(s.activated_at, user.timezone)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </div>
  );
}

/** One portfolio subscription per portfolio (the protocol takes one id per request). */
function PortfolioSubs({ ids, fn }: { ids: string[]; fn: (e: LiveEvent) => void }) {
  return (
    <>
      {ids.map((id) => (
        <PortfolioSub key={id} id={id} fn={fn} />
      ))}
    </>
  );
}

function PortfolioSub({ id, fn }: { id: string; fn: (e: LiveEvent) => void }) {
  useLive({ channel: "portfolio", portfolio_id: id }, fn);
  return null;
}
