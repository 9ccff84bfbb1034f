-- Audience changes waiting for the ad-platform connectors (Retargeting:Connectors), one row per connector and change,
-- written with the change; posted in signed batches and deleted when the connector answered 2xx.
CREATE TABLE connector_outbox (
    seq        bigserial NOT NULL PRIMARY KEY,
    connector  TEXT NOT NULL,
    body       TEXT NOT NULL,      -- the change as retargeting.joined / retargeting.left carry it, with its type
    created_at timestamptz NOT NULL
);
CREATE INDEX ix_connector_outbox ON connector_outbox (connector, seq);
