-- The inactivity scan reads profiles by the hour of last_seen instead of last_seen itself: that index then changes once
-- per hour of a customer's activity, not with every event (the per-event index write cost SQLite 12-17 % of its rate;
-- docs/benchmarks.md). The scan checks the exact last_seen of what it reads.
ALTER TABLE profiles ADD COLUMN seen_hour TEXT NOT NULL DEFAULT '';
UPDATE profiles SET seen_hour = substr(last_seen, 1, 13) || ':00:00';
DROP INDEX ix_profiles_last_seen;
CREATE INDEX ix_profiles_seen_hour ON profiles (seen_hour);  -- ordered by (seen_hour, profile_id): the key is part of every index entry

-- Scan marks were last_seen values; as hours they read that hour again (what it finds again is deduplicated by actionId).
-- quiet_until: the latest last_seen a scan started the campaign for. The cutoff's own hour is read again by the next
-- scan; its customers up to quiet_until were started already.
ALTER TABLE campaign_scans ADD COLUMN quiet_until TEXT NULL;
UPDATE campaign_scans SET scanned_until = substr(scanned_until, 1, 13) || ':00:00', after_profile = '';
