-- 0002_api_key_secrets (SQLite): broker credentials are kept as the "v1:" text that
-- apex_secrets_encrypt makes (AES-256-GCM, base64); an optional passphrase (Kraken, OKX, Coinbase
-- style keys) joins the key and the secret. The BLOB columns of 0001 already hold text as is.
ALTER TABLE api_keys ADD COLUMN passphrase_enc TEXT;
