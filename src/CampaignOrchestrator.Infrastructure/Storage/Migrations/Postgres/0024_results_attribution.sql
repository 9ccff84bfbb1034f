-- Campaign results gained the attributed conversions (one campaign per goal event, decision 0012) beside the influenced
-- ones: the counting job reads the action log again from its start and recounts every customer's results (each customer's
-- kept list is compared with what it adds now, so only the new counters change).
UPDATE funnel_state SET results_watermark = 0;
