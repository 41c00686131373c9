-- 0007_run_progress (SQLite): a run's progress (its first warm-up candle, first traded candle, last
-- candle stepped, candles stepped) moves to a narrow table of its own. It is written at every
-- candle close; in strategy_runs each write rewrote the run's row with its strategy document.
CREATE TABLE strategy_run_progress (
  run_id     TEXT PRIMARY KEY REFERENCES strategy_runs (id) ON DELETE CASCADE,
  warm_from  INTEGER,
  start_time INTEGER,
  last_time  INTEGER,
  candles    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO strategy_run_progress (run_id, warm_from, start_time, last_time, candles)
  SELECT id, warm_from, start_time, last_time, candles FROM strategy_runs;
ALTER TABLE strategy_runs DROP COLUMN warm_from;
ALTER TABLE strategy_runs DROP COLUMN start_time;
ALTER TABLE strategy_runs DROP COLUMN last_time;
ALTER TABLE strategy_runs DROP COLUMN candles;
