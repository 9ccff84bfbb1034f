-- Steps due the moment they are planned are written 'firing': claimed by the worker that planned them and delivered by
-- it at once, outside the claimer's due index (so delivering them leaves nothing there for the claimer to walk past).
-- Firing rows a worker did not finish are found by this index and made pending again (docs/decisions/0003).
CREATE INDEX ix_scheduled_actions_firing ON scheduled_actions (claimed_at) WHERE status = 'firing';
