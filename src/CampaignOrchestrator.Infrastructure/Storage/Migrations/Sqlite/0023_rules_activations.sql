-- Every time a rules version goes in force (a worker's start with other rules than the last, a file change, an upload, a
-- rollback), not only the first: putting an earlier version back must show in the history and in what the explainer names
-- for later events. The versions themselves (text, fingerprints) stay in rules_versions.
CREATE TABLE rules_activations (
    seq          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    version      TEXT    NOT NULL,
    activated_at TEXT    NOT NULL,
    by           TEXT    NOT NULL     -- 'start', 'file', or 'upload:<key name>', 'rollback:<key name>'
);
CREATE INDEX ix_rules_activations_at ON rules_activations (activated_at);
INSERT INTO rules_activations (version, activated_at, by) SELECT version, activated_at, 'recorded before activations were' FROM rules_versions ORDER BY activated_at;
