-- events.seq and action_log.seq are followed by watermarks (the funnel's counting job, the outcome feed): a number must
-- never be taken twice. A plain INTEGER PRIMARY KEY is the rowid, and SQLite hands out max(rowid) + 1: once an erasure
-- deleted the newest rows, the next ones got their numbers again, below the watermark, and were never counted.
-- AUTOINCREMENT keeps the highest number ever taken (sqlite_sequence), so numbers only grow. PostgreSQL's identities
-- never reuse a number (its migration 0021 is empty).
CREATE TABLE events_0021 (
    seq          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,  -- arrival order, breaks occurredAt ties; never reused
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
INSERT INTO events_0021 (seq, event_id, profile_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context)
    SELECT seq, event_id, profile_id, type, occurred_at, received_at, customer_id, anonymous_id, traits, properties, context FROM events;
DROP TABLE events;
ALTER TABLE events_0021 RENAME TO events;
CREATE INDEX ix_events_profile_time ON events (profile_id, occurred_at, seq);

CREATE TABLE action_log_0021 (
    seq            INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,  -- never reused
    action_id      TEXT    NOT NULL,
    campaign_id    TEXT    NOT NULL,
    step           INTEGER NOT NULL,
    profile_id     TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    outcome        TEXT    NOT NULL,
    at             TEXT    NOT NULL,             -- when it happened (worker clock)
    due_at         TEXT    NULL,                 -- the due time it fell due for (cancelled: the one it had)
    next_due_at    TEXT    NULL,                 -- deferred: the new due time
    reason         TEXT    NULL,
    cause_event_id TEXT    NULL,
    rules_version  TEXT    NULL,
    variant        INTEGER NULL,
    late_ms        INTEGER NULL,                 -- per firing: how long after its due time it was claimed
    action_seq     INTEGER NULL                  -- the action's scheduled_actions.seq
);
INSERT INTO action_log_0021 (seq, action_id, campaign_id, step, profile_id, kind, outcome, at, due_at, next_due_at, reason, cause_event_id,
        rules_version, variant, late_ms, action_seq)
    SELECT seq, action_id, campaign_id, step, profile_id, kind, outcome, at, due_at, next_due_at, reason, cause_event_id,
        rules_version, variant, late_ms, action_seq FROM action_log;
DROP TABLE action_log;
ALTER TABLE action_log_0021 RENAME TO action_log;
CREATE INDEX ix_action_log_action ON action_log (action_seq);
CREATE INDEX ix_action_log_campaign ON action_log (campaign_id, seq);

-- Numbers taken before the upgrade by rows deleted since are not known, except as far as the counting job followed them:
-- the next numbers start above its watermarks, so nothing new lands below them.
INSERT INTO sqlite_sequence (name, seq) SELECT 'events', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');
INSERT INTO sqlite_sequence (name, seq) SELECT 'action_log', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'action_log');
UPDATE sqlite_sequence SET seq = max(seq, (SELECT watermark FROM funnel_state WHERE id = 1)) WHERE name = 'events';
UPDATE sqlite_sequence SET seq = max(seq, (SELECT results_watermark FROM funnel_state WHERE id = 1)) WHERE name = 'action_log';
