-- connector_outbox.seq makes the Idempotency-Key of a connector's batch (<connector>:<first>-<last>): a number must never be
-- taken twice, or a receiver that keeps the keys it handled drops a new batch as a repeat. As a plain INTEGER PRIMARY KEY
-- (the rowid) SQLite handed out max(rowid) + 1, so once the table emptied every batch was meta:1-1 again. AUTOINCREMENT keeps
-- the highest number ever taken. The numbers taken before this upgrade are not known: the next ones start above a
-- millisecond clock's reading, far above any count of rows a table of this kind has held. (PostgreSQL's identity never
-- reuses a number; its 0022 is empty.)
CREATE TABLE connector_outbox_0022 (
    seq        INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    connector  TEXT NOT NULL,
    body       TEXT NOT NULL,      -- the change as retargeting.joined / retargeting.left carry it, with its type
    created_at TEXT NOT NULL
);
INSERT INTO connector_outbox_0022 (seq, connector, body, created_at) SELECT seq, connector, body, created_at FROM connector_outbox;
DROP TABLE connector_outbox;
ALTER TABLE connector_outbox_0022 RENAME TO connector_outbox;
CREATE INDEX ix_connector_outbox ON connector_outbox (connector, seq);
INSERT INTO sqlite_sequence (name, seq) SELECT 'connector_outbox', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'connector_outbox');
UPDATE sqlite_sequence SET seq = max(seq, CAST(strftime('%s', 'now') AS INTEGER) * 1000) WHERE name = 'connector_outbox';
