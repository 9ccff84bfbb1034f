-- SQLite only (its connector_outbox rowids were reused once the table emptied; see Sqlite/0022). PostgreSQL's identity never reuses a number.
SELECT 1;
