-- SQLite only (its rowids were reused after deletes; see Sqlite/0021). PostgreSQL identities never reuse a number.
SELECT 1;
