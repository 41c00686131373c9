-- 0008_live_orders (PostgreSQL): live trading. A live order is a trades row (what the user's lists
-- show) plus its execution record here: the client order id it is sent under (unique, so the same
-- order can never be stored, or sent, twice), the run that made it, how many times and when it was
-- sent, and the venue's account of it. A live run remembers its broker key and its notional limits.
CREATE TABLE live_orders (
  trade_id        UUID PRIMARY KEY REFERENCES trades (id) ON DELETE CASCADE,
  client_order_id VARCHAR(36) NOT NULL UNIQUE,
  run_id          UUID NOT NULL REFERENCES strategy_runs (id) ON DELETE CASCADE,
  api_key_id      UUID,
  venue           VARCHAR(16) NOT NULL,
  close_position  BOOLEAN NOT NULL DEFAULT false,
  quote_filled    NUMERIC(19, 8) NOT NULL DEFAULT 0,
  fee_currency    VARCHAR(15),
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_attempt_at TIMESTAMPTZ,
  error           TEXT,
  signal_time     TIMESTAMPTZ NOT NULL,
  updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_live_orders_run ON live_orders (run_id);
ALTER TABLE strategy_runs ADD COLUMN api_key_id UUID, ADD COLUMN max_order_notional NUMERIC(19, 8),
  ADD COLUMN max_daily_notional NUMERIC(19, 8);
