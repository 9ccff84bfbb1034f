-- Fewer random B-tree pages per action (docs/benchmarks.md):
-- * scheduled_actions: one unique index on (profile_id, campaign_id, action_id) serves both the deduplication (the
--   actionId hashes campaign and customer anyway) and every per-customer read, instead of a primary key on action_id
--   beside an index on (profile_id, campaign_id). Rows get a seq (the new primary key, growing at its end) and are
--   claimed and finished by it.
-- * action_log: found by the action's seq instead of by the random action_id.
ALTER TABLE scheduled_actions ADD COLUMN seq bigserial NOT NULL;
ALTER TABLE action_log ADD COLUMN action_seq bigint NULL;
UPDATE action_log SET action_seq = s.seq FROM scheduled_actions s WHERE s.action_id = action_log.action_id;
DROP INDEX ix_action_log_action;
CREATE INDEX ix_action_log_action ON action_log (action_seq);

ALTER TABLE scheduled_actions DROP CONSTRAINT scheduled_actions_pkey;
ALTER TABLE scheduled_actions ADD PRIMARY KEY (seq);
CREATE UNIQUE INDEX ux_scheduled_actions_profile ON scheduled_actions (profile_id, campaign_id, action_id);
DROP INDEX ix_scheduled_actions_profile;
