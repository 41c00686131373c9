-- 0007_run_progress (PostgreSQL): a run's progress (its first warm-up candle, first traded candle,
-- last candle stepped, candles stepped) moves to a narrow table of its own. It is written at every
-- candle close; in strategy_runs each write copied the run's row with its strategy document.
CREATE TABLE strategy_run_progress (
  run_id     UUID PRIMARY KEY REFERENCES strategy_runs (id) ON DELETE CASCADE,
  warm_from  TIMESTAMPTZ,
  start_time TIMESTAMPTZ,
  last_time  TIMESTAMPTZ,
  candles    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO strategy_run_progress (run_id, warm_from, start_time, last_time, candles)
  SELECT id, warm_from, start_time, last_time, candles FROM strategy_runs;
ALTER TABLE strategy_runs DROP COLUMN warm_from, DROP COLUMN start_time, DROP COLUMN last_time, DROP COLUMN candles;
