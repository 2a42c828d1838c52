-- Per-application call counters, one row per app and UTC clock hour, shared by every server
-- process. `used` counts calls granted to processes (in leases), `last_grant` is the size of
-- the latest lease (returned by the reserving UPDATE).
CREATE TABLE rate_limit_windows (
    app_id BIGINT NOT NULL,
    hour BIGINT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    last_grant BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, hour)
);
