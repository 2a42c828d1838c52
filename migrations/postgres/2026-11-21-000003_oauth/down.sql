DROP TABLE iframe_integrations;
DROP INDEX access_tokens_family;
ALTER TABLE access_tokens DROP COLUMN rotated_at;
ALTER TABLE access_tokens DROP COLUMN family_id;
DROP TABLE oauth_codes;
DROP TABLE token_families;
DROP TABLE oauth_sessions;
