-- The operator audit log (issue 16): who (the API key's name) did what, when, on what. Never a secret or a key.
CREATE TABLE audit_log (
    seq      bigserial   NOT NULL PRIMARY KEY,
    at       timestamptz NOT NULL,
    key_name text        NOT NULL,
    action   text        NOT NULL,   -- errors.replay, actions.cancel, customers.erase, ...
    target   text        NULL,       -- what it acted on (ids, a campaign, a customer)
    detail   text        NULL        -- the outcome in words (how many replayed, ...)
);
CREATE INDEX ix_audit_log_at ON audit_log (at);
