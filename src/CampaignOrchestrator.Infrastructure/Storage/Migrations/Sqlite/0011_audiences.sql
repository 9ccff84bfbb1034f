-- Retargeting (issue 4): who is in which audience now, identified as the ad platforms take it (the normalised email's
-- SHA-256, never the address). Joined by a delivered retargeting step, left on exit (a leave step), or when the
-- membership expires (a sweep publishes retargeting.left).
CREATE TABLE audience_members (
    audience     TEXT NOT NULL,
    profile_id   TEXT NOT NULL,
    email_sha256 TEXT NOT NULL,
    campaign_id  TEXT NOT NULL,
    action_id    TEXT NOT NULL,
    joined_at    TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    PRIMARY KEY (audience, profile_id)
);
CREATE INDEX ix_audience_members_expires ON audience_members (expires_at);
CREATE INDEX ix_audience_members_profile ON audience_members (profile_id);
