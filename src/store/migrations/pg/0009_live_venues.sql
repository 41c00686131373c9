-- 0009_live_venues (PostgreSQL): the last nonce each broker key signed with (Kraken wants every
-- request's nonce above the previous one), kept here so that a restart, or a second process with
-- the same key, never signs with one already used.
CREATE TABLE broker_nonces (
  api_key_id UUID PRIMARY KEY REFERENCES api_keys (id) ON DELETE CASCADE,
  nonce      BIGINT NOT NULL
);
-- What a live run does with an order made while its venue's market is closed (US stocks):
-- hold it for the open (the backtest's next-open fill), refuse it, or send it for extended hours.
ALTER TABLE strategy_runs ADD COLUMN outside_hours VARCHAR(8) NOT NULL DEFAULT 'hold';
