-- The first time each customer did each micro-conversion step, kept with their funnel contributions, so the counting job
-- takes them from the events it reads (and from a merged device's row) instead of reading the customer's whole timeline.
-- Ticks (UTC) separated by ',', empty for a step not done.
ALTER TABLE funnel_profiles ADD COLUMN firsts TEXT NULL;
