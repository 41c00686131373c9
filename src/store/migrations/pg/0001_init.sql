-- 0001_init (PostgreSQL): the spec's tables (4.2, 4.3) and indexes (8.2).
-- Ids UUID, times TIMESTAMPTZ, money NUMERIC(19, 8) (any apex_dec exactly: the spec's narrower
-- precisions would round what the engine computed), documents JSONB.

-- ms since the epoch <-> timestamptz, exact to the millisecond (integer interval arithmetic, no
-- double seconds). STABLE like their bodies, so the planner inlines them.
CREATE FUNCTION apex_ts(ms bigint) RETURNS timestamptz
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT TIMESTAMPTZ 'epoch' + ms * INTERVAL '1 millisecond' $$;
CREATE FUNCTION apex_ms(t timestamptz) RETURNS bigint
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT CAST(extract(epoch FROM t) * 1000 AS bigint) $$;

CREATE TABLE users (
  id                 UUID PRIMARY KEY,
  email              VARCHAR(255) NOT NULL,
  password_hash      VARCHAR(255) NOT NULL,
  first_name         VARCHAR(100),
  last_name          VARCHAR(100),
  timezone           VARCHAR(50) NOT NULL DEFAULT 'Europe/Paris',
  preferred_currency VARCHAR(3) NOT NULL DEFAULT 'EUR',
  is_active          BOOLEAN NOT NULL DEFAULT true,
  is_verified        BOOLEAN NOT NULL DEFAULT false,
  mfa_enabled        BOOLEAN NOT NULL DEFAULT false,
  created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_login_at      TIMESTAMPTZ
);
CREATE UNIQUE INDEX idx_users_email ON users (lower(email));

CREATE TABLE tokens (
  hash       CHAR(64) PRIMARY KEY,
  user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family     TEXT NOT NULL DEFAULT '',
  kind       VARCHAR(8) NOT NULL CHECK (kind IN ('refresh', 'reset')),
  expires_at TIMESTAMPTZ NOT NULL,
  used       BOOLEAN NOT NULL DEFAULT false,
  revoked    BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX idx_tokens_family ON tokens (family);
CREATE INDEX idx_tokens_user ON tokens (user_id, kind);

CREATE TABLE api_keys (
  id             UUID PRIMARY KEY,
  user_id        UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  broker         VARCHAR(50) NOT NULL,
  name           VARCHAR(100),
  key_hint       VARCHAR(32) NOT NULL,
  api_key_enc    BYTEA NOT NULL,
  api_secret_enc BYTEA NOT NULL,
  is_paper       BOOLEAN NOT NULL DEFAULT true,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
  last_used_at   TIMESTAMPTZ
);
CREATE INDEX idx_api_keys_user ON api_keys (user_id);

CREATE TABLE portfolios (
  id              UUID PRIMARY KEY,
  user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name            VARCHAR(100) NOT NULL,
  description     TEXT,
  base_currency   VARCHAR(3) NOT NULL DEFAULT 'EUR',
  is_paper        BOOLEAN NOT NULL DEFAULT true,
  broker          VARCHAR(50),
  initial_balance NUMERIC(19, 8) NOT NULL,
  cash_balance    NUMERIC(19, 8) NOT NULL,
  is_active       BOOLEAN NOT NULL DEFAULT true,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_portfolios_user ON portfolios (user_id);

CREATE TABLE positions (
  id                  UUID PRIMARY KEY,
  portfolio_id        UUID NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  symbol              VARCHAR(32) NOT NULL,
  quantity            NUMERIC(19, 8) NOT NULL,
  average_entry_price NUMERIC(19, 8) NOT NULL,
  current_price       NUMERIC(19, 8),
  unrealized_pnl      NUMERIC(19, 8),
  unrealized_pnl_pct  NUMERIC(19, 8),
  is_open             BOOLEAN NOT NULL DEFAULT true,
  opened_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  closed_at           TIMESTAMPTZ,
  updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX idx_positions_portfolio ON positions (portfolio_id);
CREATE INDEX idx_positions_symbol ON positions (symbol);

CREATE TABLE strategies (
  id                    UUID PRIMARY KEY,
  user_id               UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name                  VARCHAR(128) NOT NULL,
  description           TEXT,
  version               INTEGER NOT NULL DEFAULT 1,
  asset_symbol          VARCHAR(32) NOT NULL,
  timeframe             VARCHAR(7) NOT NULL,
  definition            JSONB NOT NULL,
  stop_loss_pct         NUMERIC(19, 8),
  take_profit_pct       NUMERIC(19, 8),
  max_position_size_pct NUMERIC(19, 8),
  max_drawdown_pct      NUMERIC(19, 8),
  status                VARCHAR(20) NOT NULL DEFAULT 'draft',
  trading_mode          VARCHAR(20),
  created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
  activated_at          TIMESTAMPTZ
);
CREATE INDEX idx_strategies_user_status ON strategies (user_id, status);
CREATE INDEX idx_strategies_user_created ON strategies (user_id, created_at);

CREATE TABLE strategy_versions (
  strategy_id           UUID NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  version               INTEGER NOT NULL,
  name                  VARCHAR(128) NOT NULL,
  description           TEXT,
  asset_symbol          VARCHAR(32) NOT NULL,
  timeframe             VARCHAR(7) NOT NULL,
  definition            JSONB NOT NULL,
  stop_loss_pct         NUMERIC(19, 8),
  take_profit_pct       NUMERIC(19, 8),
  max_position_size_pct NUMERIC(19, 8),
  max_drawdown_pct      NUMERIC(19, 8),
  created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (strategy_id, version)
);

CREATE TABLE backtests (
  id              UUID PRIMARY KEY,
  strategy_id     UUID NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
  user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  start_date      TIMESTAMPTZ,
  end_date        TIMESTAMPTZ,
  initial_capital NUMERIC(19, 8) NOT NULL,
  commission_pct  NUMERIC(19, 8) NOT NULL,
  slippage_pct    NUMERIC(19, 8) NOT NULL,
  status          VARCHAR(20) NOT NULL DEFAULT 'pending',
  progress_pct    INTEGER NOT NULL DEFAULT 0,
  error_message   TEXT,
  result          JSONB,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  started_at      TIMESTAMPTZ,
  completed_at    TIMESTAMPTZ
);
CREATE INDEX idx_backtests_user_status ON backtests (user_id, status, created_at DESC);
CREATE INDEX idx_backtests_user_created ON backtests (user_id, created_at);
CREATE INDEX idx_backtests_strategy ON backtests (strategy_id);
CREATE INDEX idx_backtests_unfinished ON backtests (status) WHERE status IN ('pending', 'running');

CREATE TABLE backtest_trades (
  backtest_id UUID NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  entry_time  TIMESTAMPTZ NOT NULL,
  exit_time   TIMESTAMPTZ NOT NULL,
  quantity    NUMERIC(19, 8) NOT NULL,
  entry_price NUMERIC(19, 8) NOT NULL,
  exit_price  NUMERIC(19, 8) NOT NULL,
  gross_pnl   NUMERIC(19, 8) NOT NULL,
  net_pnl     NUMERIC(19, 8) NOT NULL,
  commission  NUMERIC(19, 8) NOT NULL,
  exit_reason VARCHAR(16) NOT NULL,
  PRIMARY KEY (backtest_id, seq)
);

CREATE TABLE backtest_equity (
  backtest_id UUID NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  time        TIMESTAMPTZ NOT NULL,
  value       NUMERIC(19, 8) NOT NULL,
  PRIMARY KEY (backtest_id, seq)
);

CREATE TABLE trades (
  id              UUID PRIMARY KEY,
  user_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  strategy_id     UUID REFERENCES strategies (id) ON DELETE SET NULL,
  portfolio_id    UUID NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
  symbol          VARCHAR(32) NOT NULL,
  side            VARCHAR(4) NOT NULL CHECK (side IN ('BUY', 'SELL')),
  order_type      VARCHAR(20) NOT NULL,
  quantity        NUMERIC(19, 8) NOT NULL,
  price           NUMERIC(19, 8),
  filled_quantity NUMERIC(19, 8) NOT NULL DEFAULT 0,
  filled_price    NUMERIC(19, 8),
  commission      NUMERIC(19, 8) NOT NULL DEFAULT 0,
  slippage        NUMERIC(19, 8) NOT NULL DEFAULT 0,
  status          VARCHAR(20) NOT NULL DEFAULT 'pending',
  broker_order_id VARCHAR(100),
  realized_pnl    NUMERIC(19, 8),
  is_paper        BOOLEAN NOT NULL DEFAULT true,
  created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
  submitted_at    TIMESTAMPTZ,
  filled_at       TIMESTAMPTZ
);
CREATE INDEX idx_trades_user ON trades (user_id);
CREATE INDEX idx_trades_symbol ON trades (symbol);
CREATE INDEX idx_trades_portfolio_time ON trades (portfolio_id, created_at DESC);
CREATE INDEX idx_trades_strategy ON trades (strategy_id, created_at DESC);

-- Time series: TimescaleDB hypertables when the extension can be loaded, otherwise native range
-- partitions by month, created by the store as data arrives (no DEFAULT partition: a month
-- partition cannot be added once a DEFAULT partition holds rows of that month).
-- The key leads with (symbol, timeframe) so it serves every range query; the spec's
-- (symbol, timeframe, time DESC) index would duplicate it and slow every import.
DO $$
DECLARE
  tsdb boolean := EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
                  AND current_setting('shared_preload_libraries') LIKE '%timescaledb%';
  part text := CASE WHEN tsdb THEN '' ELSE ' PARTITION BY RANGE (time)' END;
BEGIN
  IF tsdb THEN
    CREATE EXTENSION IF NOT EXISTS timescaledb;
  END IF;
  EXECUTE 'CREATE TABLE ohlcv (
    time      TIMESTAMPTZ NOT NULL,
    symbol    VARCHAR(32) NOT NULL,
    timeframe VARCHAR(7) NOT NULL,
    open      NUMERIC(18, 8) NOT NULL,
    high      NUMERIC(18, 8) NOT NULL,
    low       NUMERIC(18, 8) NOT NULL,
    close     NUMERIC(18, 8) NOT NULL,
    volume    NUMERIC(24, 8) NOT NULL,
    source    TEXT DEFAULT ''binance'',
    PRIMARY KEY (symbol, timeframe, time))' || part;
  EXECUTE 'CREATE TABLE equity_history (
    time            TIMESTAMPTZ NOT NULL,
    portfolio_id    UUID NOT NULL REFERENCES portfolios (id) ON DELETE CASCADE,
    equity_value    NUMERIC(19, 8) NOT NULL,
    cash_balance    NUMERIC(19, 8) NOT NULL,
    positions_value NUMERIC(19, 8) NOT NULL,
    daily_pnl       NUMERIC(19, 8),
    daily_pnl_pct   NUMERIC(19, 8),
    PRIMARY KEY (time, portfolio_id))' || part;
  CREATE INDEX idx_equity_portfolio ON equity_history (portfolio_id, time DESC);
  IF tsdb THEN
    PERFORM create_hypertable('ohlcv', 'time');
    PERFORM create_hypertable('equity_history', 'time');
  END IF;
END
$$;
