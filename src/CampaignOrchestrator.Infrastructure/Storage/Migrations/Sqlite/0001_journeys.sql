-- Journeys: profiles, device links, the event timeline and the phase history.
-- Timestamps are UTC text 'yyyy-MM-dd HH:mm:ss.FFFFFFF' (sortable); JSON is text.
CREATE TABLE profiles (
    profile_id   TEXT    NOT NULL PRIMARY KEY,  -- c:{customerId} or a:{anonymousId}
    customer_id  TEXT    NULL,
    traits       TEXT    NOT NULL,              -- JSON object
    trait_times  TEXT    NOT NULL,              -- JSON object: trait -> occurredAt that set it
    phase        TEXT    NULL,
    phase_since  TEXT    NULL,
    order_count  INTEGER NOT NULL,
    event_count  INTEGER NOT NULL,
    first_seen   TEXT    NOT NULL,
    last_seen    TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);

CREATE TABLE anonymous_links (
    anonymous_id TEXT NOT NULL PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    linked_at    TEXT NOT NULL,
    event_id     TEXT NOT NULL
);
CREATE INDEX ix_anonymous_links_customer ON anonymous_links (customer_id);

CREATE TABLE events (
    seq          INTEGER NOT NULL PRIMARY KEY,  -- rowid: arrival order, breaks occurredAt ties
    event_id     TEXT    NOT NULL UNIQUE,
    profile_id   TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    occurred_at  TEXT    NOT NULL,
    received_at  TEXT    NOT NULL,
    customer_id  TEXT    NULL,
    anonymous_id TEXT    NULL,
    traits       TEXT    NULL,
    properties   TEXT    NULL,
    context      TEXT    NULL
);
CREATE INDEX ix_events_profile_time ON events (profile_id, occurred_at, seq);

CREATE TABLE phase_history (
    profile_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    phase       TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    PRIMARY KEY (profile_id, event_id)
);
