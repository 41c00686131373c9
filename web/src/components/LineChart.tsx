// Equity and drawdown curves (lightweight-charts line and area series), times in the user's
// timezone. Several series share one time scale (two backtests compared).
import { createChart, type IChartApi, type UTCTimestamp } from "lightweight-charts";
import { useEffect, useRef } from "react";
import { dateTime } from "../format";

export type Series = { name: string; color: string; points: { time: string; value: number }[]; area?: boolean };

export function LineChart({ series, timeZone, height = 280, label, percent }: { series: Series[]; timeZone?: string; height?: number; label: string; percent?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const fmt = (t: number) => dateTime(new Date(t * 1000).toISOString(), timeZone).slice(0, 10);
    const c = createChart(box.current, {
      height,
      autoSize: true,
      layout: { background: { color: "transparent" }, textColor: "#cbd5e1", fontFamily: "inherit", attributionLogo: false },
      grid: { vertLines: { color: "#1e293b" }, horzLines: { color: "#1e293b" } },
      rightPriceScale: { borderColor: "#334155" },
      timeScale: { borderColor: "#334155", tickMarkFormatter: (t: number) => fmt(t).slice(0, 7) },
      localization: { timeFormatter: (t: number) => fmt(t), priceFormatter: (p: number) => (percent ? `${p.toFixed(2)} %` : p.toLocaleString(undefined, { maximumFractionDigits: 2 })) },
    });
    for (const s of series) {
      const data = dedupe(s.points.map((p) => ({ time: Math.floor(Date.parse(p.time) / 1000) as UTCTimestamp, value: p.value })));
      const line = s.area
        ? c.addAreaSeries({ lineColor: s.color, topColor: `${s.color}00`, bottomColor: `${s.color}66`, lineWidth: 1, invertFilledArea: true } as never)
        : c.addLineSeries({ color: s.color, lineWidth: 2 });
      line.setData(data);
    }
    c.timeScale().fitContent();
    chart.current = c;
    return () => c.remove();
  }, [series, timeZone, height, percent]);
  return (
    <figure className="chart-box">
      <div ref={box} className="chart" style={{ height }} role="img" aria-label={label} />
      <figcaption className="muted small">
        {series.length > 1 && series.map((s) => <span key={s.name} style={{ color: s.color }}>{s.name} </span>)}
        Charts by <a href="https://www.tradingview.com/lightweight-charts/">TradingView Lightweight Charts</a>
      </figcaption>
    </figure>
  );
}

/** One point per time (the chart refuses repeats), ascending. */
function dedupe<T extends { time: number }>(pts: T[]): T[] {
  const out: T[] = [];
  for (const p of [...pts].sort((a, b) => a.time - b.time)) {
    if (out.length && out[out.length - 1].time === p.time) out[out.length - 1] = p;
    else out.push(p);
  }
  return out;
}
