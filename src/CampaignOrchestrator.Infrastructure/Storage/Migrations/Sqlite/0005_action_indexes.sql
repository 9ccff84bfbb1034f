-- Fewer random B-tree pages per action (each costs a page written per batch; docs/benchmarks.md):
-- * scheduled_actions: one unique index on (profile_id, campaign_id, action_id) serves both the deduplication (the
--   actionId hashes campaign and customer anyway) and every per-customer read, instead of a unique index on action_id
--   beside an index on (profile_id, campaign_id). Rows are finished by seq.
-- * action_log: found by the action's seq (rows are logged roughly in the order they were scheduled, so that index grows
--   at its end) instead of by the random action_id.
ALTER TABLE action_log ADD COLUMN action_seq INTEGER NULL;
UPDATE action_log SET action_seq = (SELECT s.seq FROM scheduled_actions s WHERE s.action_id = action_log.action_id);
DROP INDEX ix_action_log_action;
CREATE INDEX ix_action_log_action ON action_log (action_seq);

CREATE TABLE scheduled_actions_0005 (
    seq           INTEGER NOT NULL PRIMARY KEY,
    action_id     TEXT    NOT NULL,              -- hash of campaign, step, profile, trigger
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
INSERT INTO scheduled_actions_0005 SELECT * FROM scheduled_actions;
DROP TABLE scheduled_actions;
ALTER TABLE scheduled_actions_0005 RENAME TO scheduled_actions;
CREATE INDEX ix_scheduled_actions_due ON scheduled_actions (due_at) WHERE status IN ('pending', 'claimed');
CREATE UNIQUE INDEX ux_scheduled_actions_profile ON scheduled_actions (profile_id, campaign_id, action_id);
