-- 0004_users_email_lower (SQLite): users are looked up by lower(email) (one statement for both
-- databases); the column's NOCASE unique index cannot answer that expression, so every login
-- scanned the users table. An index on the expression itself can.
CREATE INDEX idx_users_email ON users (lower(email));
