// The positions and order tables the dashboard and the portfolio page both show.
import { dateTime, money, num, pct, trend } from "../format";
import { livePnl } from "../results";
import type { PortfolioTrade, Position } from "../types";

/** Open positions priced at the live prices given (symbol -> price); `full` adds % and opening. */
export function PositionsTable({ positions, prices, timeZone, full, testId }: { positions: Position[]; prices: Record<string, string>; timeZone: string; full?: boolean; testId?: string }) {
  return (
    <div className="scroll">
      <table data-testid={testId}>
        <thead>
          <tr>
            <th>Symbol</th>
            <th className="num">Quantity</th>
            <th className="num">Entry</th>
            <th className="num">Price</th>
            <th className="num">Unrealized P&amp;L</th>
            {full && <th className="num">%</th>}
            {full && <th>Opened</th>}
          </tr>
        </thead>
        <tbody>
          {positions.map((x) => {
            const px = prices[x.symbol] ?? x.current_price;
            const live = livePnl(x, px);
            return (
              <tr key={x.id}>
                <td>{x.symbol}</td>
                <td className="num">{num(x.quantity)}</td>
                <td className="num">{num(x.average_entry_price)}</td>
                <td className="num" data-testid="position-price">
                  {num(px)}
                </td>
                <td className={`num ${trend(live.pnl)}`}>{num(live.pnl)}</td>
                {full && <td className={`num ${trend(live.pct)}`}>{pct(live.pct)}</td>}
                {full && <td>{dateTime(x.opened_at, timeZone)}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Orders and fills, amounts in their portfolio's currency; `commission` adds that column. */
export function TradesTable({ trades, currency, timeZone, commission, testId }: { trades: PortfolioTrade[]; currency: (portfolioId: string) => string; timeZone: string; commission?: boolean; testId?: string }) {
  return (
    <div className="scroll">
      <table data-testid={testId}>
        <thead>
          <tr>
            <th>Time ({timeZone})</th>
            <th>Symbol</th>
            <th>Side</th>
            <th>Type</th>
            <th className="num">Quantity</th>
            <th className="num">Price</th>
            {commission && <th className="num">Commission</th>}
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {trades.map((t) => (
            <tr key={t.id}>
              <td>{dateTime(t.created_at, timeZone)}</td>
              <td>{t.symbol}</td>
              <td className={t.side === "BUY" ? "up" : "down"}>{t.side}</td>
              <td>{t.order_type}</td>
              <td className="num">{num(t.filled_quantity ?? t.quantity)}</td>
              <td className="num">{money(t.filled_price ?? t.price, currency(t.portfolio_id))}</td>
              {commission && <td className="num">{money(t.commission, currency(t.portfolio_id))}</td>}
              <td>
                {t.status}
                {t.error && <div className="small muted">{t.error}</div>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
