-- The timeline keeps the event's objects as published (json) instead of converting each one to
-- jsonb on insert, which only a query over them would repay (docs/benchmarks.md).
ALTER TABLE events
    ALTER COLUMN traits TYPE json USING traits::json,
    ALTER COLUMN properties TYPE json USING properties::json,
    ALTER COLUMN context TYPE json USING context::json;
