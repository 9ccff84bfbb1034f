-- Campaign results (issue 17) as kept counters, counted by the same job as the funnel (Actions/CampaignResults.cs) from the
-- action log and the goal events: results_counts per campaign, UTC trigger day and counter (step:N:kind:outcome,
-- treated:V, converted:V, holdout, holdout-converted) with the revenue attributed; results_profiles what each customer adds
-- to each campaign, so a change applies its difference; results_goals the goal each campaign was counted with (a new goal
-- recounts the campaign). funnel_state.results_watermark: the last action_log.seq counted.
CREATE TABLE results_counts (
    campaign_id TEXT    NOT NULL,
    day         TEXT    NOT NULL,
    result      TEXT    NOT NULL,
    n           BIGINT  NOT NULL,
    revenue     REAL NOT NULL,
    PRIMARY KEY (campaign_id, day, result)
);
CREATE TABLE results_profiles (
    profile_id  TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    counted     TEXT NOT NULL,
    PRIMARY KEY (profile_id, campaign_id)
);
CREATE INDEX ix_results_profiles_campaign ON results_profiles (campaign_id, profile_id);
CREATE TABLE results_goals (
    campaign_id TEXT NOT NULL PRIMARY KEY,
    goal        TEXT NOT NULL
);
ALTER TABLE funnel_state ADD COLUMN results_watermark BIGINT NOT NULL DEFAULT 0;
