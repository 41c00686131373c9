// Candles with TradingView's lightweight-charts: times shown in the user's timezone, prices with
// the digits they need, and a handle to draw live candles (update() replaces the last one while it
// forms and appends the next).
import {
  createChart,
  CrosshairMode,
  type IChartApi,
  type ISeriesApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";
import { dateTime, priceDigits } from "../format";
import type { Candle } from "../types";

export type ChartHandle = { update: (c: Candle) => void };

export const toTime = (iso: string) => Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;

export const CandleChart = forwardRef<
  ChartHandle,
  { candles: Candle[]; timeZone?: string; height?: number; markers?: SeriesMarker<Time>[]; label?: string }
>(function CandleChart({ candles, timeZone, height = 420, markers, label }, ref) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const series = useRef<ISeriesApi<"Candlestick"> | null>(null);

  useEffect(() => {
    if (!box.current) return;
    // A daily or longer candle is a date (the exchange's), not an instant in the user's zone.
    const spacing = candles.length > 1 ? Date.parse(candles[1].time) - Date.parse(candles[0].time) : 0;
    const daily = spacing >= 86_400_000;
    const fmt = (t: Time) => {
      const iso = new Date((t as number) * 1000).toISOString();
      return daily ? iso.slice(0, 10) : dateTime(iso, timeZone);
    };
    const c = createChart(box.current, {
      height,
      autoSize: true,
      // The logo adds an inline <style>, which the server's CSP refuses: the attribution that
      // TradingView's licence asks for is a link under each chart instead.
      layout: { background: { color: "transparent" }, textColor: "#cbd5e1", fontFamily: "inherit", attributionLogo: false },
      grid: { vertLines: { color: "#1e293b" }, horzLines: { color: "#1e293b" } },
      crosshair: { mode: CrosshairMode.Normal },
      rightPriceScale: { borderColor: "#334155" },
      timeScale: { borderColor: "#334155", timeVisible: !daily, tickMarkFormatter: (t: Time) => (daily ? fmt(t).slice(0, 7) : fmt(t).slice(5)) },
      localization: { timeFormatter: fmt },
    });
    series.current = c.addCandlestickSeries({
      upColor: "#22c55e",
      downColor: "#ef4444",
      borderVisible: false,
      wickUpColor: "#22c55e",
      wickDownColor: "#ef4444",
    });
    chart.current = c;
    return () => {
      c.remove();
      chart.current = null;
      series.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- rebuilt when the spacing changes, not per candle
  }, [height, timeZone, candles.length > 1 ? Date.parse(candles[1].time) - Date.parse(candles[0].time) : 0]);

  useEffect(() => {
    const s = series.current;
    if (!s) return;
    const digits = priceDigits(candles.length ? candles[candles.length - 1].close : 1);
    s.applyOptions({ priceFormat: { type: "price", precision: digits, minMove: 10 ** -digits } });
    s.setData(candles.map((c) => ({ time: toTime(c.time), open: c.open, high: c.high, low: c.low, close: c.close })));
    s.setMarkers(markers ?? []);
    chart.current?.timeScale().fitContent();
  }, [candles, markers, timeZone, height]);

  // The newest candle drawn: a live one older than it (a replayed feed playing history behind the
  // stored candles) is not this chart's to draw; the chart would throw.
  const last = useRef(0);
  useEffect(() => {
    last.current = candles.length ? toTime(candles[candles.length - 1].time) : 0;
  }, [candles]);
  useImperativeHandle(ref, () => ({
    update: (c: Candle) => {
      const t = toTime(c.time);
      if (!series.current || t < last.current) return;
      last.current = t;
      series.current.update({ time: t, open: c.open, high: c.high, low: c.low, close: c.close });
    },
  }));

  return (
    <figure className="chart-box">
      <div ref={box} className="chart" role="img" aria-label={label ?? "Candle chart"} />
      <figcaption className="muted small">
        Charts by <a href="https://www.tradingview.com/lightweight-charts/">TradingView Lightweight Charts</a>
      </figcaption>
    </figure>
  );
});
