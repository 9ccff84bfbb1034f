-- Campaigns (issue 3): rules versions, scheduled actions (every step of every campaign instance) and their outcome log,
-- the order total on the profile, and the index the inactivity scan reads.
ALTER TABLE profiles ADD COLUMN order_total numeric NOT NULL DEFAULT 0;
CREATE INDEX ix_profiles_last_seen ON profiles (last_seen);

CREATE TABLE rules_versions (
    version      text NOT NULL PRIMARY KEY,  -- content hash of the rules files
    activated_at timestamptz NOT NULL,              -- first time a worker took it
    files        text NOT NULL,              -- JSON array of file names
    campaigns    text NOT NULL               -- JSON object: campaign id -> fingerprint
);

-- How far the inactivity scan of each campaign has read profiles by last_seen (keyset: last_seen, profile_id).
CREATE TABLE campaign_scans (
    campaign_id   text NOT NULL PRIMARY KEY,
    scanned_until timestamptz NOT NULL,
    after_profile text NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Every step of every campaign instance (re-entry is judged on the first steps): pending until it falls due, then delivered, failed, suppressed or
-- cancelled. The claimer reads the partial index on due_at.
CREATE TABLE scheduled_actions (
    action_id     text    NOT NULL PRIMARY KEY,  -- hash of campaign, step, profile, trigger
    campaign_id   text    NOT NULL,
    step          integer NOT NULL,              -- 1-based
    profile_id    text    NOT NULL,
    instance_key  text    NULL,
    trigger_id    text    NOT NULL,
    triggered_at  timestamptz NOT NULL,
    cause         text    NOT NULL,              -- what started it, for people
    kind          text    NOT NULL,              -- email, banner, offer, retargeting, webhook
    channel       text    NOT NULL,              -- what reaches the customer: email (also an offer sent with a template), or the kind
    settings      json    NOT NULL,              -- JSON object: the action as the rules version wrote it
    variant       integer NOT NULL,
    holdout       boolean NOT NULL,
    transactional boolean NOT NULL,
    priority      integer NOT NULL,
    rules_version text    NOT NULL,
    fingerprint   text    NOT NULL,              -- the campaign's definition it was planned under
    planned_at    timestamptz NOT NULL,              -- the due time the plan gave
    due_at        timestamptz NOT NULL,              -- when it falls due now (windows and caps move it)
    status        text    NOT NULL,              -- pending, claimed, delivered, failed, suppressed, cancelled
    claimed_at    timestamptz NULL,
    claim_token   text    NULL,
    finished_at   timestamptz NULL,
    reason        text    NULL,
    cause_event_id text   NULL,                  -- the event that cancelled it
    created_at    timestamptz NOT NULL
);
CREATE INDEX ix_scheduled_actions_due ON scheduled_actions (due_at) WHERE status IN ('pending', 'claimed');
CREATE INDEX ix_scheduled_actions_profile ON scheduled_actions (profile_id, campaign_id);

-- The life of every action after it was scheduled (the action row itself records that), append-only:
-- cancelled, and per firing delivered, failed, suppressed or deferred, with how late it fired.
CREATE TABLE action_log (
    seq            bigserial NOT NULL PRIMARY KEY,
    action_id      text    NOT NULL,
    campaign_id    text    NOT NULL,
    step           integer NOT NULL,
    profile_id     text    NOT NULL,
    kind           text    NOT NULL,
    outcome        text    NOT NULL,
    at             timestamptz NOT NULL,             -- when it happened (worker clock)
    due_at         timestamptz NULL,                 -- the due time it fell due for (cancelled: the one it had)
    next_due_at    timestamptz NULL,             -- deferred: the new due time
    reason         text    NULL,
    cause_event_id text    NULL,
    rules_version  text    NULL,
    variant        integer NULL,
    late_ms        bigint  NULL                  -- per firing: how long after its due time it was claimed
);
CREATE INDEX ix_action_log_action ON action_log (action_id);
CREATE INDEX ix_action_log_campaign ON action_log (campaign_id, seq);
