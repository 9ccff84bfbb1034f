-- The operator audit log (issue 16): who (the API key's name) did what, when, on what. Never a secret or a key.
CREATE TABLE audit_log (
    seq      INTEGER NOT NULL PRIMARY KEY,
    at       TEXT    NOT NULL,
    key_name TEXT    NOT NULL,
    action   TEXT    NOT NULL,   -- errors.replay, actions.cancel, customers.erase, ...
    target   TEXT    NULL,       -- what it acted on (ids, a campaign, a customer)
    detail   TEXT    NULL        -- the outcome in words (how many replayed, ...)
);
CREATE INDEX ix_audit_log_at ON audit_log (at);
