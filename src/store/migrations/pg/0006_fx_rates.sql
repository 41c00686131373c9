-- 0006_fx_rates (PostgreSQL): the ECB's euro reference rates (1 EUR = rate units of currency), read
-- to convert amounts between currencies. date: ms UTC of the reference day's 00:00 (BIGINT in both
-- databases, as candle_catalog's times: one SQL text compares it); rate NUMERIC(19, 8) like all
-- money in 0001 (any apex_dec exactly). (0005 is another change's number.)
CREATE TABLE fx_rates (
  currency VARCHAR(3) NOT NULL,
  date     BIGINT NOT NULL,
  rate     NUMERIC(19, 8) NOT NULL CHECK (rate > 0),
  PRIMARY KEY (currency, date)
);
