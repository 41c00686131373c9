-- 0005_paper_runs (SQLite): a strategy's trading run (one per activation) that the runner steps
-- candle by candle, and the pre-trade risk refusals it records. Times INTEGER ms (NULL: not yet),
-- money INTEGER units of 1e-8.
CREATE TABLE strategy_runs (
  id             TEXT PRIMARY KEY,
  strategy_id    TEXT NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  portfolio_id   TEXT NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  mode           TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
  symbol         TEXT NOT NULL,
  timeframe      TEXT NOT NULL,
  definition     TEXT NOT NULL,    -- the strategy document as activated: later edits need a new run
  quote_currency TEXT NOT NULL,    -- what the pair is priced in (USDT)
  base_currency  TEXT NOT NULL,    -- the portfolio's (EUR)
  fx_rate        INTEGER NOT NULL, -- base -> quote at activation
  capital        INTEGER NOT NULL, -- in the quote currency
  commission_pct INTEGER NOT NULL,
  slippage_pct   INTEGER NOT NULL,
  status         TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'stopped', 'failed')),
  warm_from      INTEGER,          -- the first warm-up candle
  start_time     INTEGER,          -- the first traded candle
  last_time      INTEGER,          -- the last candle stepped and stored
  candles        INTEGER NOT NULL DEFAULT 0,
  error_message  TEXT,
  created_at     INTEGER NOT NULL,
  stopped_at     INTEGER
);
CREATE UNIQUE INDEX idx_runs_one_running ON strategy_runs (strategy_id) WHERE status = 'running';
CREATE INDEX idx_runs_status ON strategy_runs (status);
CREATE INDEX idx_runs_strategy ON strategy_runs (strategy_id, created_at);

CREATE TABLE risk_events (
  run_id       TEXT NOT NULL REFERENCES strategy_runs (id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,
  strategy_id  TEXT NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  portfolio_id TEXT NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  time         INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  detail       TEXT NOT NULL,
  quantity     INTEGER,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE INDEX idx_risk_events_strategy ON risk_events (strategy_id, time);
