// One portfolio: its value and performance in its currency, open positions whose unrealized P&L
// follows the live prices, its trades (paged), and its equity curve.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useParams } from "react-router-dom";
import { get, getAll } from "../api";
import { useUser } from "../auth";
import { LineChart } from "../components/LineChart";
import { PositionsTable, TradesTable } from "../components/tables";
import { Card, Empty, ErrorBox, Loading } from "../components/ui";
import { money, num, pct, trend } from "../format";
import { useLive, type LiveEvent } from "../live";
import type { Page, Performance, Portfolio as P, PortfolioTrade, Position } from "../types";

type EquityPoint = { time: string; equity_value: string; cash_balance: string; positions_value: string };
const PER = 20;

export function PortfolioPage() {
  const { id = "" } = useParams();
  const user = useUser();
  const qc = useQueryClient();
  const p = useQuery({ queryKey: ["portfolio", id], queryFn: () => get<P>(`/portfolios/${id}`) });
  const perf = useQuery({ queryKey: ["performance", id], queryFn: () => get<Performance & Record<string, unknown>>(`/portfolios/${id}/performance`) });
  const positions = useQuery({ queryKey: ["positions", id], queryFn: () => get<Page<Position>>(`/portfolios/${id}/positions?limit=100`) });
  const [page, setPage] = useState(1);
  const trades = useQuery({ queryKey: ["trades", id, page], queryFn: () => get<Page<PortfolioTrade>>(`/portfolios/${id}/trades?page=${page}&limit=${PER}`) });
  const equity = useQuery({ queryKey: ["equity", id], queryFn: () => getAll<EquityPoint>(`/portfolios/${id}/equity`) });
  const open = (positions.data?.items ?? []).filter((x) => x.is_open);
  const symbols = useMemo(() => [...new Set(open.map((x) => x.symbol))].sort().slice(0, 20), [open]);
  const [prices, setPrices] = useState<Record<string, string>>({});
  const [live, setLive] = useState<{ equity: string; cash: string } | null>(null);
  const onEvent = (e: LiveEvent) => {
    const d = e.data as Record<string, string>;
    if (e.channel === "ticker") setPrices((m) => ({ ...m, [d.symbol]: String(d.price) }));
    else if (e.channel === "portfolio" && d.portfolio_id === id) setLive({ equity: d.equity_value, cash: d.cash_balance });
    else if (e.channel === "trade" && d.portfolio_id === id) {
      void qc.invalidateQueries({ queryKey: ["trades", id] });
      void qc.invalidateQueries({ queryKey: ["positions", id] });
      void qc.invalidateQueries({ queryKey: ["equity", id] });
    }
  };
  useLive({ channel: "portfolio", portfolio_id: id }, onEvent);
  useLive({ channel: "trade" }, onEvent);
  useLive(symbols.length ? { channel: "ticker", symbols } : null, onEvent);
  const curve = useMemo(
    () => [{ name: "equity", color: "#38bdf8", points: (equity.data ?? []).map((x) => ({ time: x.time, value: Number(x.equity_value) })) }],
    [equity.data],
  );
  if (p.isPending) return <Loading />;
  if (p.error || !p.data) return <ErrorBox error={p.error} />;
  const cur = p.data.base_currency;
  const f = perf.data;
  const eq = live?.equity ?? f?.current_equity;
  const ret = live && f ? (Number(live.equity) / Number(f.initial_balance) - 1) * 100 : f?.total_return_pct;
  const closed = (f?.total_trades ?? 0) > 0; // win rate and profit factor need closed trades
  const stats: [string, string, string?][] = [
    ["Equity", money(eq, cur)],
    ["Cash", money(live?.cash ?? f?.cash_balance ?? p.data.cash_balance, cur)],
    ["Total return", pct(ret), trend(ret)],
    ["Max drawdown", f?.max_drawdown_pct === null || f?.max_drawdown_pct === undefined ? "—" : pct(-f.max_drawdown_pct)],
    ["Sharpe", num(f?.sharpe_ratio as number, 2)],
    ["Closed trades", String(f?.total_trades ?? "—")],
    ["Win rate", closed ? `${num(f?.win_rate_pct as number, 1)} %` : "—"],
    ["Profit factor", closed ? num(f?.profit_factor as number, 2) : "—"],
  ];
  return (
    <div className="page">
      <h1>
        {p.data.name} {p.data.is_paper && <span className="tag">paper</span>} <small className="muted">{cur}</small>
      </h1>
      <ErrorBox error={perf.error} />
      <div className="stats metrics" data-testid="performance">
        {stats.map(([label, value, cls]) => (
          <div className="stat" key={label}>
            <div className="stat-label">{label}</div>
            <div className={`stat-value ${cls ?? ""}`}>{value}</div>
          </div>
        ))}
      </div>
      <Card title="Open positions">
        {!open.length ? (
          <Empty>No open position.</Empty>
        ) : (
          <PositionsTable positions={open} prices={prices} timeZone={user.timezone} full testId="positions" />
        )}
      </Card>
      <Card title="Equity">
        {equity.isPending ? <Loading /> : (equity.data?.length ?? 0) < 2 ? <Empty>The curve starts with the first trading day.</Empty> : <LineChart series={curve} timeZone={user.timezone} label="Portfolio equity" />}
      </Card>
      <Card title={`Trades (${trades.data?.total ?? 0})`}>
        <ErrorBox error={trades.error} />
        {!trades.data?.items.length ? (
          <Empty>No trade yet.</Empty>
        ) : (
          <>
            <TradesTable trades={trades.data.items} currency={() => cur} timeZone={user.timezone} commission />
            <nav className="pager" aria-label="Trade pages">
              <button type="button" disabled={page === 1} onClick={() => setPage(page - 1)}>
                Previous
              </button>
              <span className="small">
                page {page} of {Math.max(1, Math.ceil(trades.data.total / PER))}
              </span>
              <button type="button" disabled={page * PER >= trades.data.total} onClick={() => setPage(page + 1)}>
                Next
              </button>
            </nav>
          </>
        )}
      </Card>
    </div>
  );
}
