-- 0003_leases_rules_catalog (SQLite): job leases on backtests (a worker claims one atomically
-- until lease_until, ms), the user's rule library (spec 3.2.1/3.2.2), and the candle catalog that
-- every import keeps current, so listing symbols never scans the candles.
ALTER TABLE backtests ADD COLUMN lease_owner TEXT;
ALTER TABLE backtests ADD COLUMN lease_until INTEGER;

CREATE TABLE rules (
  id          TEXT PRIMARY KEY,
  user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  description TEXT,
  definition  TEXT NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX idx_rules_user_created ON rules (user_id, created_at);

-- first_time/last_time: ms since the epoch in both databases (an internal summary, not a spec table).
CREATE TABLE candle_catalog (
  symbol     TEXT NOT NULL,
  timeframe  TEXT NOT NULL,
  first_time INTEGER NOT NULL,
  last_time  INTEGER NOT NULL,
  count      INTEGER NOT NULL,
  PRIMARY KEY (symbol, timeframe)
) WITHOUT ROWID;
INSERT INTO candle_catalog (symbol, timeframe, first_time, last_time, count)
  SELECT symbol, timeframe, min(time), max(time), count(*) FROM ohlcv GROUP BY symbol, timeframe;
