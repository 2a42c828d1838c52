-- Webhooks (SQLite): subscriptions, the transactional outbox and the delivery log.
-- Kept in step with ../../postgres/2026-11-21-000009_webhooks/up.sql.

-- A webhook belongs to an app. secret_token is the HMAC key of the signatures, so it is kept
-- as given (never answered). callback_host is the URL's host[:port]: deliveries to one host
-- share a concurrency cap. verified: the handshake succeeded for this callback_url.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id INTEGER NOT NULL REFERENCES apps(id),
    callback_url TEXT NOT NULL,
    callback_host TEXT NOT NULL,
    secret_token TEXT NOT NULL,
    events TEXT NOT NULL DEFAULT '[]',
    active BOOLEAN NOT NULL DEFAULT 1,
    verified BOOLEAN NOT NULL DEFAULT 0,
    verified_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_app ON webhooks (app_id, id);

-- One change that webhooks were told about: the object as GET answered it, in the same
-- transaction as the change. Shared by the deliveries of every subscribed webhook.
CREATE TABLE webhook_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_group_id INTEGER,
    event TEXT NOT NULL,
    resource TEXT NOT NULL DEFAULT '',
    object_id INTEGER,
    object TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- The outbox: one delivery per event and webhook. A dispatcher claims a due delivery by
-- setting lease_until (and its claim id); a lease that runs out makes it due again, so a
-- process that dies mid-delivery loses nothing. attempts counts the attempts of the current
-- schedule, which runs from base_at (the event, or the latest manual redelivery).
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES webhook_events(id),
    event TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    base_at TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP,
    lease_until TIMESTAMP,
    claim TEXT,
    delivered_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_claim ON webhook_deliveries (claim);

-- Every attempt: when, the answer's status code (NULL when there was none), what went
-- wrong, how long it took.
CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    at TIMESTAMP NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- Which apps hold a grant in a practice group (the subscribers of its events).
CREATE INDEX access_tokens_app_user ON access_tokens (app_id, user_id);
