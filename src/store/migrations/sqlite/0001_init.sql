-- 0001_init (SQLite): the spec's tables (4.2, 4.3) and indexes (8.2).
-- Ids are UUID text; times INTEGER ms since the epoch UTC (NULL: never);
-- money INTEGER units of 1e-8 (SQLite's NUMERIC would be floating point); JSON as TEXT.

CREATE TABLE users (
  id                 TEXT PRIMARY KEY,
  email              TEXT NOT NULL UNIQUE COLLATE NOCASE,
  password_hash      TEXT NOT NULL,
  first_name         TEXT,
  last_name          TEXT,
  timezone           TEXT NOT NULL DEFAULT 'Europe/Paris',
  preferred_currency TEXT NOT NULL DEFAULT 'EUR',
  is_active          INTEGER NOT NULL DEFAULT 1,
  is_verified        INTEGER NOT NULL DEFAULT 0,
  mfa_enabled        INTEGER NOT NULL DEFAULT 0,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  last_login_at      INTEGER
);

-- Refresh tokens (rotation families) and password reset tokens, by SHA-256 of the secret.
CREATE TABLE tokens (
  hash       TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family     TEXT NOT NULL DEFAULT '',
  kind       TEXT NOT NULL CHECK (kind IN ('refresh', 'reset')),
  expires_at INTEGER NOT NULL,
  used       INTEGER NOT NULL DEFAULT 0,
  revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_tokens_family ON tokens (family);
CREATE INDEX idx_tokens_user ON tokens (user_id, kind);

CREATE TABLE api_keys (
  id             TEXT PRIMARY KEY,
  user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  broker         TEXT NOT NULL,
  name           TEXT,
  key_hint       TEXT NOT NULL,
  api_key_enc    BLOB NOT NULL,
  api_secret_enc BLOB NOT NULL,
  is_paper       INTEGER NOT NULL DEFAULT 1,
  created_at     INTEGER NOT NULL,
  last_used_at   INTEGER
);
CREATE INDEX idx_api_keys_user ON api_keys (user_id);

CREATE TABLE portfolios (
  id              TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name            TEXT NOT NULL,
  description     TEXT,
  base_currency   TEXT NOT NULL DEFAULT 'EUR',
  is_paper        INTEGER NOT NULL DEFAULT 1,
  broker          TEXT,
  initial_balance INTEGER NOT NULL,
  cash_balance    INTEGER NOT NULL,
  is_active       INTEGER NOT NULL DEFAULT 1,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX idx_portfolios_user ON portfolios (user_id);

CREATE TABLE positions (
  id                  TEXT PRIMARY KEY,
  portfolio_id        TEXT NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  symbol              TEXT NOT NULL,
  quantity            INTEGER NOT NULL,
  average_entry_price INTEGER NOT NULL,
  current_price       INTEGER,
  unrealized_pnl      INTEGER,
  unrealized_pnl_pct  INTEGER,
  is_open             INTEGER NOT NULL DEFAULT 1,
  opened_at           INTEGER NOT NULL,
  closed_at           INTEGER,
  updated_at          INTEGER NOT NULL
);
CREATE INDEX idx_positions_portfolio ON positions (portfolio_id);
CREATE INDEX idx_positions_symbol ON positions (symbol);

CREATE TABLE strategies (
  id                    TEXT PRIMARY KEY,
  user_id               TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name                  TEXT NOT NULL,
  description           TEXT,
  version               INTEGER NOT NULL DEFAULT 1,
  asset_symbol          TEXT NOT NULL,
  timeframe             TEXT NOT NULL,
  definition            TEXT NOT NULL,
  stop_loss_pct         INTEGER,
  take_profit_pct       INTEGER,
  max_position_size_pct INTEGER,
  max_drawdown_pct      INTEGER,
  status                TEXT NOT NULL DEFAULT 'draft',
  trading_mode          TEXT,
  created_at            INTEGER NOT NULL,
  updated_at            INTEGER NOT NULL,
  activated_at          INTEGER
);
CREATE INDEX idx_strategies_user_status ON strategies (user_id, status);
CREATE INDEX idx_strategies_user_created ON strategies (user_id, created_at);

-- Every version of a strategy as it was saved (version 1 at creation).
CREATE TABLE strategy_versions (
  strategy_id           TEXT NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  version               INTEGER NOT NULL,
  name                  TEXT NOT NULL,
  description           TEXT,
  asset_symbol          TEXT NOT NULL,
  timeframe             TEXT NOT NULL,
  definition            TEXT NOT NULL,
  stop_loss_pct         INTEGER,
  take_profit_pct       INTEGER,
  max_position_size_pct INTEGER,
  max_drawdown_pct      INTEGER,
  created_at            INTEGER NOT NULL,
  PRIMARY KEY (strategy_id, version)
);

CREATE TABLE backtests (
  id              TEXT PRIMARY KEY,
  strategy_id     TEXT NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  start_date      INTEGER,
  end_date        INTEGER,
  initial_capital INTEGER NOT NULL,
  commission_pct  INTEGER NOT NULL,
  slippage_pct    INTEGER NOT NULL,
  status          TEXT NOT NULL DEFAULT 'pending',
  progress_pct    INTEGER NOT NULL DEFAULT 0,
  error_message   TEXT,
  result          TEXT,
  created_at      INTEGER NOT NULL,
  started_at      INTEGER,
  completed_at    INTEGER
);
CREATE INDEX idx_backtests_user_status ON backtests (user_id, status, created_at DESC);
CREATE INDEX idx_backtests_user_created ON backtests (user_id, created_at);
CREATE INDEX idx_backtests_strategy ON backtests (strategy_id);
CREATE INDEX idx_backtests_unfinished ON backtests (status) WHERE status IN ('pending', 'running');

CREATE TABLE backtest_trades (
  backtest_id TEXT NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  entry_time  INTEGER NOT NULL,
  exit_time   INTEGER NOT NULL,
  quantity    INTEGER NOT NULL,
  entry_price INTEGER NOT NULL,
  exit_price  INTEGER NOT NULL,
  gross_pnl   INTEGER NOT NULL,
  net_pnl     INTEGER NOT NULL,
  commission  INTEGER NOT NULL,
  exit_reason TEXT NOT NULL,
  PRIMARY KEY (backtest_id, seq)
) WITHOUT ROWID;

CREATE TABLE backtest_equity (
  backtest_id TEXT NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  time        INTEGER NOT NULL,
  value       INTEGER NOT NULL,
  PRIMARY KEY (backtest_id, seq)
) WITHOUT ROWID;

CREATE TABLE trades (
  id              TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  strategy_id     TEXT REFERENCES strategies (id) ON DELETE SET NULL,
  portfolio_id    TEXT NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  symbol          TEXT NOT NULL,
  side            TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type      TEXT NOT NULL,
  quantity        INTEGER NOT NULL,
  price           INTEGER,
  filled_quantity INTEGER NOT NULL DEFAULT 0,
  filled_price    INTEGER,
  commission      INTEGER NOT NULL DEFAULT 0,
  slippage        INTEGER NOT NULL DEFAULT 0,
  status          TEXT NOT NULL DEFAULT 'pending',
  broker_order_id TEXT,
  realized_pnl    INTEGER,
  is_paper        INTEGER NOT NULL DEFAULT 1,
  created_at      INTEGER NOT NULL,
  submitted_at    INTEGER,
  filled_at       INTEGER
);
CREATE INDEX idx_trades_user ON trades (user_id);
CREATE INDEX idx_trades_symbol ON trades (symbol);
CREATE INDEX idx_trades_portfolio_time ON trades (portfolio_id, created_at DESC);
CREATE INDEX idx_trades_strategy ON trades (strategy_id, created_at DESC);

-- Candles are analytics data (doubles in core/series.h): REAL keeps them bit-exact.
-- The key leads with (symbol, timeframe) so it also serves every range query; the spec's
-- (symbol, timeframe, time DESC) index would duplicate it and halve the import speed.
CREATE TABLE ohlcv (
  time      INTEGER NOT NULL,
  symbol    TEXT NOT NULL,
  timeframe TEXT NOT NULL,
  open      REAL NOT NULL,
  high      REAL NOT NULL,
  low       REAL NOT NULL,
  close     REAL NOT NULL,
  volume    REAL NOT NULL,
  source    TEXT DEFAULT 'binance',
  PRIMARY KEY (symbol, timeframe, time)
) WITHOUT ROWID;

CREATE TABLE equity_history (
  time            INTEGER NOT NULL,
  portfolio_id    TEXT NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  equity_value    INTEGER NOT NULL,
  cash_balance    INTEGER NOT NULL,
  positions_value INTEGER NOT NULL,
  daily_pnl       INTEGER,
  daily_pnl_pct   INTEGER,
  PRIMARY KEY (time, portfolio_id)
) WITHOUT ROWID;
CREATE INDEX idx_equity_portfolio ON equity_history (portfolio_id, time DESC);
