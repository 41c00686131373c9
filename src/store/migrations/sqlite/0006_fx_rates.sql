-- 0006_fx_rates (SQLite): the ECB's euro reference rates (1 EUR = rate units of currency), read to
-- convert amounts between currencies. date: ms UTC of the reference day's 00:00; rate: INTEGER
-- units of 1e-8 like all money here. (0005 is another change's number.) The key answers "the
-- latest rate of a currency on or before a time" with one index seek.
CREATE TABLE fx_rates (
  currency TEXT NOT NULL,
  date     INTEGER NOT NULL,
  rate     INTEGER NOT NULL CHECK (rate > 0),
  PRIMARY KEY (currency, date)
) WITHOUT ROWID;
