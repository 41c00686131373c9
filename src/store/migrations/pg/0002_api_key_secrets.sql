-- 0002_api_key_secrets (PostgreSQL): broker credentials are kept as the "v1:" text that
-- apex_secrets_encrypt makes (AES-256-GCM, base64), so TEXT rather than BYTEA (a text parameter
-- would otherwise be read back in bytea's hex form); an optional passphrase joins them.
ALTER TABLE api_keys
  ALTER COLUMN api_key_enc TYPE TEXT USING convert_from(api_key_enc, 'UTF8'),
  ALTER COLUMN api_secret_enc TYPE TEXT USING convert_from(api_secret_enc, 'UTF8'),
  ADD COLUMN passphrase_enc TEXT;
