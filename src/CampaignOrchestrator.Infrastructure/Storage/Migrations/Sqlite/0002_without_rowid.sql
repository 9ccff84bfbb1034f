-- Tables keyed by text become WITHOUT ROWID: one B-tree instead of a table plus its key index, so an
-- upsert writes one page instead of two (the write volume per event bounds SQLite's rate;
-- docs/benchmarks.md). Same columns, same keys.
CREATE TABLE profiles_0002 (
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
) WITHOUT ROWID;
INSERT INTO profiles_0002 SELECT profile_id, customer_id, traits, trait_times, phase, phase_since, order_count, event_count, first_seen, last_seen, updated_at FROM profiles;
DROP TABLE profiles;
ALTER TABLE profiles_0002 RENAME TO profiles;

CREATE TABLE anonymous_links_0002 (
    anonymous_id TEXT NOT NULL PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    linked_at    TEXT NOT NULL,
    event_id     TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO anonymous_links_0002 SELECT anonymous_id, customer_id, linked_at, event_id FROM anonymous_links;
DROP TABLE anonymous_links;
ALTER TABLE anonymous_links_0002 RENAME TO anonymous_links;
CREATE INDEX ix_anonymous_links_customer ON anonymous_links (customer_id);

CREATE TABLE phase_history_0002 (
    profile_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    phase       TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    PRIMARY KEY (profile_id, event_id)
) WITHOUT ROWID;
INSERT INTO phase_history_0002 SELECT profile_id, event_id, phase, occurred_at FROM phase_history;
DROP TABLE phase_history;
ALTER TABLE phase_history_0002 RENAME TO phase_history;
