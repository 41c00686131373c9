// Pure helpers for a backtest's result pages: drawdown from an equity curve, the monthly returns
// grid, trade sorting and paging.

export type Point = { time: string; value: number };

/** Drawdown from the running peak, in percent (0 or negative). */
export function drawdown(points: Point[]): Point[] {
  let peak = -Infinity;
  return points.map((p) => {
    peak = Math.max(peak, p.value);
    return { time: p.time, value: peak > 0 ? (p.value / peak - 1) * 100 : 0 };
  });
}

/** Monthly returns as year rows of 12 cells (null: no data that month), with each year's
 * compounded total. */
export function monthlyGrid(months: { month: string; return_pct: number }[]): { year: number; cells: (number | null)[]; total: number }[] {
  const years = new Map<number, (number | null)[]>();
  for (const m of months) {
    const [y, mo] = m.month.split("-").map(Number);
    if (!y || !mo || mo < 1 || mo > 12) continue;
    if (!years.has(y)) years.set(y, Array(12).fill(null));
    years.get(y)![mo - 1] = m.return_pct;
  }
  return [...years.entries()]
    .sort(([a], [b]) => a - b)
    .map(([year, cells]) => ({
      year,
      cells,
      total: (cells.reduce<number>((acc, c) => acc * (1 + (c ?? 0) / 100), 1) - 1) * 100,
    }));
}

export type SortKey = "entry_time" | "exit_time" | "net_pnl" | "return_pct" | "quantity" | "entry_price" | "exit_price";

/** Trades sorted by a column (numbers as numbers, times as times; missing values last). */
export function sortTrades<T extends Record<string, unknown>>(trades: T[], key: SortKey, desc: boolean): T[] {
  const val = (t: T) => {
    const v = t[key];
    if (v === null || v === undefined) return null;
    return key.endsWith("_time") ? Date.parse(String(v)) : Number(v);
  };
  return [...trades].sort((a, b) => {
    const x = val(a);
    const y = val(b);
    if (x === null) return y === null ? 0 : 1;
    if (y === null) return -1;
    return desc ? y - x : x - y;
  });
}

/** A position's unrealized P&L at a live price (decimal strings in, 8 decimals out), and in
 * percent of its cost; the stored values when no price came yet. */
export function livePnl(
  p: { quantity: string; average_entry_price: string; unrealized_pnl: string | null; unrealized_pnl_pct: number | null },
  price: string | null | undefined,
): { pnl: string | null; pct: number | null } {
  if (!price) return { pnl: p.unrealized_pnl, pct: p.unrealized_pnl_pct };
  const qty = Number(p.quantity);
  const cost = Number(p.average_entry_price) * qty;
  const value = Number(price) * qty;
  return { pnl: (value - cost).toFixed(8), pct: cost ? ((value - cost) / cost) * 100 : null };
}
