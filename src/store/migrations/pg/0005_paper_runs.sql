-- 0005_paper_runs (PostgreSQL): a strategy's trading run (one per activation) that the runner
-- steps candle by candle, and the pre-trade risk refusals it records.
CREATE TABLE strategy_runs (
  id             UUID PRIMARY KEY,
  strategy_id    UUID NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  user_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  portfolio_id   UUID NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  mode           VARCHAR(8) NOT NULL CHECK (mode IN ('paper', 'live')),
  symbol         VARCHAR(32) NOT NULL,
  timeframe      VARCHAR(7) NOT NULL,
  definition     JSONB NOT NULL,
  quote_currency VARCHAR(15) NOT NULL,
  base_currency  VARCHAR(3) NOT NULL,
  fx_rate        NUMERIC(19, 8) NOT NULL,
  capital        NUMERIC(19, 8) NOT NULL,
  commission_pct NUMERIC(19, 8) NOT NULL,
  slippage_pct   NUMERIC(19, 8) NOT NULL,
  status         VARCHAR(16) NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'stopped', 'failed')),
  warm_from      TIMESTAMPTZ,
  start_time     TIMESTAMPTZ,
  last_time      TIMESTAMPTZ,
  candles        BIGINT NOT NULL DEFAULT 0,
  error_message  TEXT,
  created_at     TIMESTAMPTZ NOT NULL,
  stopped_at     TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_runs_one_running ON strategy_runs (strategy_id) WHERE status = 'running';
CREATE INDEX idx_runs_status ON strategy_runs (status);
CREATE INDEX idx_runs_strategy ON strategy_runs (strategy_id, created_at);

CREATE TABLE risk_events (
  run_id       UUID NOT NULL REFERENCES strategy_runs (id) ON DELETE CASCADE,
  seq          BIGINT NOT NULL,
  strategy_id  UUID NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  portfolio_id UUID NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  time         TIMESTAMPTZ NOT NULL,
  kind         VARCHAR(32) NOT NULL,
  detail       TEXT NOT NULL,
  quantity     NUMERIC(19, 8),
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX idx_risk_events_strategy ON risk_events (strategy_id, time);
