-- Failed sign-ins and failed token requests, counted per key (an account from an address, an
-- address, a client from an address) and 15-minute window, shared by every server process
-- (src/throttle.rs). Rows older than two windows are deleted as new failures come in.
CREATE TABLE auth_failures (
    key TEXT NOT NULL,
    win INTEGER NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key, win)
);
CREATE INDEX auth_failures_win ON auth_failures (win);
