-- Per-application call counters, one row per app and UTC clock hour, shared by every server
-- process. `used` counts calls granted to processes (in leases), `last_grant` is the size of
-- the latest lease (returned by the reserving UPDATE).
CREATE TABLE rate_limit_windows (
    app_id INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    last_grant INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, hour)
);
