-- Find a customer by email (issue 16) without the address: the hash of each profile's email trait (Core/Journeys/EmailHash),
-- written by the journey transaction only when the address changes. The code step (Storage/SchemaMigrator.cs) fills it
-- for the profiles an earlier release stored.
CREATE TABLE email_lookup (
    email_sha256 TEXT NOT NULL,
    profile_id   TEXT NOT NULL,
    PRIMARY KEY (email_sha256, profile_id)
);
CREATE INDEX ix_email_lookup_profile ON email_lookup (profile_id);
