-- The connected funnel (issue 17): counters kept by the funnel job (Journeys/FunnelCounters.cs) from the phase history, so
-- GET /api/funnel reads a few hundred rows, never the timeline. funnel_counts: counter 0 phase entries (phase, from other),
-- 1 entries that went on (phase, to other, time bucket), 2 customers in a phase now (day ''), 3 micro-conversion steps by the
-- day of the first product view. funnel_profiles: what each customer adds (FunnelCount keys), so a change applies its
-- difference. funnel_state: the last events.seq counted.
CREATE TABLE funnel_counts (
    day          TEXT     NOT NULL,
    counter      SMALLINT NOT NULL,
    cross_device SMALLINT NOT NULL,
    phase_rank   SMALLINT NOT NULL,
    other_rank   SMALLINT NOT NULL,
    bucket       SMALLINT NOT NULL,
    n            BIGINT   NOT NULL,
    PRIMARY KEY (day, counter, cross_device, phase_rank, other_rank, bucket)
) WITHOUT ROWID;
CREATE TABLE funnel_profiles (
    profile_id TEXT NOT NULL PRIMARY KEY,
    counted    TEXT NOT NULL
);
CREATE TABLE funnel_state (
    id         INTEGER NOT NULL PRIMARY KEY,
    watermark  BIGINT  NOT NULL,
    counted_at TEXT    NULL
);
INSERT INTO funnel_state (id, watermark, counted_at) VALUES (1, 0, NULL);
