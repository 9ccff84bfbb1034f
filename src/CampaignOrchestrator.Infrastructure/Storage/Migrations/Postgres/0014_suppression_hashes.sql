-- GDPR (issue 16): the suppression list keeps the SHA-256 of the normalised address (trimmed, lower case), never the
-- address, so an erased customer's address survives only as that hash and still gets no marketing mail. The rows an
-- earlier release wrote are hashed by the migration's code step (Storage/SchemaMigrator.cs), which drops the old table.
ALTER TABLE email_suppressions RENAME TO email_suppressions_0013;
CREATE TABLE email_suppressions (
    address_sha256 text        NOT NULL PRIMARY KEY,   -- hex SHA-256 of the trimmed, lower-case address
    reason         text        NOT NULL,               -- unsubscribed, hard-bounce, erased
    at             timestamptz NOT NULL,
    detail         text        NULL                    -- the action whose link was used, or the server's reply (the address masked)
);
