-- 0003_leases_rules_catalog (PostgreSQL): job leases on backtests (a worker claims one atomically
-- until lease_until), the user's rule library (spec 3.2.1/3.2.2), and the candle catalog that
-- every import keeps current, so listing symbols never scans the candles.
ALTER TABLE backtests ADD COLUMN lease_owner TEXT, ADD COLUMN lease_until TIMESTAMPTZ;

CREATE TABLE rules (
  id          UUID PRIMARY KEY,
  user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name        VARCHAR(127) NOT NULL,
  description TEXT,
  definition  JSONB NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1,
  created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_rules_user_created ON rules (user_id, created_at);

-- first_time/last_time: ms since the epoch in both databases (an internal summary, not a spec table).
CREATE TABLE candle_catalog (
  symbol     VARCHAR(32) NOT NULL,
  timeframe  VARCHAR(7) NOT NULL,
  first_time BIGINT NOT NULL,
  last_time  BIGINT NOT NULL,
  count      BIGINT NOT NULL,
  PRIMARY KEY (symbol, timeframe)
);
INSERT INTO candle_catalog (symbol, timeframe, first_time, last_time, count)
  SELECT symbol, timeframe, apex_ms(min(time)), apex_ms(max(time)), count(*) FROM ohlcv GROUP BY symbol, timeframe;
