-- 0004_users_email_lower (PostgreSQL): users are looked up by lower(email); 0001 already indexes
-- that expression (unique), so this only keeps the numbering in step with SQLite's 0004.
CREATE UNIQUE INDEX IF NOT EXISTS idx_users_email ON users (lower(email));
