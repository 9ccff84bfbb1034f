-- Every time a rules version goes in force, not only the first (see Sqlite/0023).
CREATE TABLE rules_activations (
    seq          bigserial   NOT NULL PRIMARY KEY,
    version      text        NOT NULL,
    activated_at timestamptz NOT NULL,
    by           text        NOT NULL
);
CREATE INDEX ix_rules_activations_at ON rules_activations (activated_at);
INSERT INTO rules_activations (version, activated_at, by) SELECT version, activated_at, 'recorded before activations were' FROM rules_versions ORDER BY activated_at;
