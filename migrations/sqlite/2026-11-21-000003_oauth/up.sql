-- The OAuth 2 authorization server and the iframe integration (SQLite).
-- Kept in step with ../../postgres/2026-11-21-000003_oauth/up.sql.
-- Everything here is global state shared by every server process; secrets (session and CSRF
-- tokens, codes) are stored only as SHA-256 hex.

-- A browser's login session at /o/authorize: anonymous (user_id NULL, holding the login
-- form's CSRF token) until the login succeeds, which replaces it with a signed-in one.
CREATE TABLE oauth_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    csrf_hash TEXT NOT NULL,
    user_id INTEGER REFERENCES users(id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_sessions_expires ON oauth_sessions (expires_at);

-- The tokens descending from one grant (an authorization code or an operator's
-- `token create`) through refresh-token rotation; revoked together on replay.
CREATE TABLE token_families (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES apps(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);

-- Authorization codes: single use (used_at), bound to the app, redirect_uri, user, scope and
-- PKCE S256 challenge ('' when none); family_id is the grant the code was exchanged for.
CREATE TABLE oauth_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    code_hash TEXT NOT NULL UNIQUE,
    app_id INTEGER NOT NULL REFERENCES apps(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    family_id INTEGER REFERENCES token_families(id),
    used_at TIMESTAMP,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);

-- No REFERENCES on the added columns: SQLite cannot drop a column used by a foreign key.
ALTER TABLE access_tokens ADD COLUMN family_id INTEGER;
ALTER TABLE access_tokens ADD COLUMN rotated_at TIMESTAMP;
CREATE INDEX access_tokens_family ON access_tokens (family_id);

-- Apps a doctor enabled with POST /api/iframe_integration.
CREATE TABLE iframe_integrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES apps(id),
    doctor_id INTEGER NOT NULL REFERENCES doctors(id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (app_id, doctor_id)
);
