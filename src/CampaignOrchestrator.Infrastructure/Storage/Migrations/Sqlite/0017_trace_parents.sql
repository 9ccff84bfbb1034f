-- Traces (issue 16): an action keeps the W3C traceparent of the event that scheduled it, and an outbound event the one of
-- the delivery that wrote it, so the spans of a delivery days later link back (Messaging/Traces.cs). Null while no tracer
-- listens.
ALTER TABLE scheduled_actions ADD COLUMN trace_parent TEXT NULL;
ALTER TABLE outbox ADD COLUMN trace_parent TEXT NULL;
