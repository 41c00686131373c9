import { describe, expect, it } from "vitest";
import { drawdown, monthlyGrid, sortTrades } from "./results";

describe("drawdown", () => {
  it("is measured from the running peak, by hand", () => {
    const eq = [100, 120, 90, 130, 65].map((value, i) => ({ time: `2024-01-0${i + 1}`, value }));
    expect(drawdown(eq).map((p) => +p.value.toFixed(6))).toEqual([0, 0, -25, 0, -50]);
  });
});

describe("monthly grid", () => {
  it("puts months in their cells and compounds the year", () => {
    const g = monthlyGrid([
      { month: "2023-12", return_pct: 5 },
      { month: "2024-01", return_pct: 10 },
      { month: "2024-03", return_pct: -10 },
    ]);
    expect(g.map((r) => r.year)).toEqual([2023, 2024]);
    expect(g[1].cells.slice(0, 3)).toEqual([10, null, -10]);
    expect(g[1].total).toBeCloseTo(-1, 10); // 1.1 * 0.9 = 0.99
    expect(g[0].cells[11]).toBe(5);
  });
});

describe("trade sorting", () => {
  const t = [
    { entry_time: "2024-02-01T00:00:00Z", net_pnl: "-5.5", exit_time: null },
    { entry_time: "2024-01-01T00:00:00Z", net_pnl: "100", exit_time: "2024-01-05T00:00:00Z" },
    { entry_time: "2024-03-01T00:00:00Z", net_pnl: "20", exit_time: "2024-03-02T00:00:00Z" },
  ];
  it("sorts decimal strings as numbers, not text", () => {
    expect(sortTrades(t, "net_pnl", true).map((x) => x.net_pnl)).toEqual(["100", "20", "-5.5"]);
    expect(sortTrades(t, "net_pnl", false).map((x) => x.net_pnl)).toEqual(["-5.5", "20", "100"]);
  });
  it("times as times, open trades (no exit) last either way", () => {
    expect(sortTrades(t, "entry_time", false).map((x) => x.net_pnl)).toEqual(["100", "-5.5", "20"]);
    expect(sortTrades(t, "exit_time", true).map((x) => x.exit_time)).toEqual(["2024-03-02T00:00:00Z", "2024-01-05T00:00:00Z", null]);
    expect(sortTrades(t, "exit_time", false).at(-1)!.exit_time).toBeNull();
  });
});

import { livePnl } from "./results";

describe("live P&L of a position", () => {
  const pos = { quantity: "2", average_entry_price: "100", unrealized_pnl: "5", unrealized_pnl_pct: 2.5 };
  it("at a live price, by hand", () => {
    expect(livePnl(pos, "110")).toEqual({ pnl: "20.00000000", pct: 10 });
    expect(livePnl(pos, "95.5")).toEqual({ pnl: "-9.00000000", pct: -4.5 });
  });
  it("without one, what the server stored", () => {
    expect(livePnl(pos, null)).toEqual({ pnl: "5", pct: 2.5 });
  });
});
