-- Outbound events (issue 4; wire contract: the campaign-actions exchange): written in the transaction that records
-- what they tell (a banner assigned, ...), published after the commit by the outbox publisher, deleted once the broker
-- confirmed them. A crash between the broker's confirm and the delete publishes a row again, with the same message id.
CREATE TABLE outbox (
    seq         INTEGER NOT NULL PRIMARY KEY,   -- publish order
    routing_key TEXT    NOT NULL,               -- banner.assigned, offer.issued, ...
    message_id  TEXT    NOT NULL,               -- the routing key and the actionId: a consumer deduplicates on it
    body        TEXT    NOT NULL,               -- JSON, as the wire contract describes
    created_at  TEXT    NOT NULL
);
