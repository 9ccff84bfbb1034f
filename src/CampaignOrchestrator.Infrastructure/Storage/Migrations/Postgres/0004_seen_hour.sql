-- The inactivity scan reads profiles by the hour of last_seen instead of last_seen itself: that index then changes once
-- per hour of a customer's activity, not with every event, and a profile update that leaves every indexed column alone
-- stays a HOT update (no index writes at all; room for it on the page: fillfactor). docs/benchmarks.md has the numbers.
ALTER TABLE profiles ADD COLUMN seen_hour timestamptz;
UPDATE profiles SET seen_hour = date_trunc('hour', last_seen AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
ALTER TABLE profiles ALTER COLUMN seen_hour SET NOT NULL;
ALTER TABLE profiles SET (fillfactor = 80);
DROP INDEX ix_profiles_last_seen;
CREATE INDEX ix_profiles_seen_hour ON profiles (seen_hour, profile_id);

-- Scan marks were last_seen values; as hours they read that hour again (what it finds again is deduplicated by actionId).
-- quiet_until: the latest last_seen a scan started the campaign for. The cutoff's own hour is read again by the next
-- scan; its customers up to quiet_until were started already.
ALTER TABLE campaign_scans ADD COLUMN quiet_until timestamptz NULL;
UPDATE campaign_scans SET scanned_until = date_trunc('hour', scanned_until AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', after_profile = '';
