-- 0008_live_orders (SQLite): live trading. A live order is a trades row (what the user's lists
-- show) plus its execution record here: the client order id it is sent under (unique, so the same
-- order can never be stored, or sent, twice), the run that made it, how many times and when it was
-- sent, and the venue's account of it. A live run remembers its broker key and its notional limits.
CREATE TABLE live_orders (
  trade_id        TEXT PRIMARY KEY REFERENCES trades (id) ON DELETE CASCADE,
  client_order_id TEXT NOT NULL UNIQUE,
  run_id          TEXT NOT NULL REFERENCES strategy_runs (id) ON DELETE CASCADE,
  api_key_id      TEXT,
  venue           TEXT NOT NULL,
  close_position  INTEGER NOT NULL DEFAULT 0,
  quote_filled    INTEGER NOT NULL DEFAULT 0,
  fee_currency    TEXT,
  attempts        INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  error           TEXT,
  signal_time     INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX idx_live_orders_run ON live_orders (run_id);
ALTER TABLE strategy_runs ADD COLUMN api_key_id TEXT;
ALTER TABLE strategy_runs ADD COLUMN max_order_notional INTEGER;
ALTER TABLE strategy_runs ADD COLUMN max_daily_notional INTEGER;
