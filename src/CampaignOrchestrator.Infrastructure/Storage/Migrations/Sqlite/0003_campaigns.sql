-- Campaigns (issue 3): rules versions, scheduled actions (every step of every campaign instance) and their outcome log,
-- the order total on the profile, and the index the inactivity scan reads.
ALTER TABLE profiles ADD COLUMN order_total REAL NOT NULL DEFAULT 0;
CREATE INDEX ix_profiles_last_seen ON profiles (last_seen);

CREATE TABLE rules_versions (
    version      TEXT NOT NULL PRIMARY KEY,  -- content hash of the rules files
    activated_at TEXT NOT NULL,              -- first time a worker took it
    files        TEXT NOT NULL,              -- JSON array of file names
    campaigns    TEXT NOT NULL               -- JSON object: campaign id -> fingerprint
) WITHOUT ROWID;

-- How far the inactivity scan of each campaign has read profiles by last_seen (keyset: last_seen, profile_id).
CREATE TABLE campaign_scans (
    campaign_id   TEXT NOT NULL PRIMARY KEY,
    scanned_until TEXT NOT NULL,
    after_profile TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;

-- Every step of every campaign instance (re-entry is judged on the first steps): pending until it falls due, then delivered, failed, suppressed or
-- cancelled. The claimer reads the partial index on due_at.
-- A rowid table: rows written together (a batch's steps, due together) share pages, so claiming and
-- finishing a batch rewrites few pages; the random action_id lives in a narrow unique index.
CREATE TABLE scheduled_actions (
    seq           INTEGER NOT NULL PRIMARY KEY,
    action_id     TEXT    NOT NULL UNIQUE,       -- hash of campaign, step, profile, trigger
    campaign_id   TEXT    NOT NULL,
    step          INTEGER NOT NULL,              -- 1-based
    profile_id    TEXT    NOT NULL,
    instance_key  TEXT    NULL,
    trigger_id    TEXT    NOT NULL,
    triggered_at  TEXT    NOT NULL,
    cause         TEXT    NOT NULL,              -- what started it, for people
    kind          TEXT    NOT NULL,              -- email, banner, offer, retargeting, webhook
    channel       TEXT    NOT NULL,              -- what reaches the customer: email (also an offer sent with a template), or the kind
    settings      TEXT    NOT NULL,              -- JSON object: the action as the rules version wrote it
    variant       INTEGER NOT NULL,
    holdout       INTEGER NOT NULL,
    transactional INTEGER NOT NULL,
    priority      INTEGER NOT NULL,
    rules_version TEXT    NOT NULL,
    fingerprint   TEXT    NOT NULL,              -- the campaign's definition it was planned under
    planned_at    TEXT    NOT NULL,              -- the due time the plan gave
    due_at        TEXT    NOT NULL,              -- when it falls due now (windows and caps move it)
    status        TEXT    NOT NULL,              -- pending, claimed, delivered, failed, suppressed, cancelled
    claimed_at    TEXT    NULL,
    claim_token   TEXT    NULL,
    finished_at   TEXT    NULL,
    reason        TEXT    NULL,
    cause_event_id TEXT   NULL,                  -- the event that cancelled it
    created_at    TEXT    NOT NULL
);
CREATE INDEX ix_scheduled_actions_due ON scheduled_actions (due_at) WHERE status IN ('pending', 'claimed');
CREATE INDEX ix_scheduled_actions_profile ON scheduled_actions (profile_id, campaign_id);

-- The life of every action after it was scheduled (the action row itself records that), append-only:
-- cancelled, and per firing delivered, failed, suppressed or deferred, with how late it fired.
CREATE TABLE action_log (
    seq            INTEGER NOT NULL PRIMARY KEY,
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
    late_ms        INTEGER NULL                  -- per firing: how long after its due time it was claimed
);
CREATE INDEX ix_action_log_action ON action_log (action_id);
CREATE INDEX ix_action_log_campaign ON action_log (campaign_id, seq);
