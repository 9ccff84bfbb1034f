-- Journeys: profiles, device links, the event timeline and the phase history.
CREATE TABLE profiles (
    profile_id   text        NOT NULL PRIMARY KEY,  -- c:{customerId} or a:{anonymousId}
    customer_id  text        NULL,
    traits       jsonb       NOT NULL,
    trait_times  jsonb       NOT NULL,              -- trait -> occurredAt that set it
    phase        text        NULL,
    phase_since  timestamptz NULL,
    order_count  integer     NOT NULL,
    event_count  integer     NOT NULL,
    first_seen   timestamptz NOT NULL,
    last_seen    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE TABLE anonymous_links (
    anonymous_id text        NOT NULL PRIMARY KEY,
    customer_id  text        NOT NULL,
    linked_at    timestamptz NOT NULL,
    event_id     text        NOT NULL
);
CREATE INDEX ix_anonymous_links_customer ON anonymous_links (customer_id);

CREATE TABLE events (
    seq          bigserial   NOT NULL PRIMARY KEY,  -- arrival order, breaks occurredAt ties
    event_id     text        NOT NULL UNIQUE,
    profile_id   text        NOT NULL,
    type         text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    customer_id  text        NULL,
    anonymous_id text        NULL,
    traits       jsonb       NULL,
    properties   jsonb       NULL,
    context      jsonb       NULL
);
CREATE INDEX ix_events_profile_time ON events (profile_id, occurred_at, seq);

CREATE TABLE phase_history (
    profile_id  text        NOT NULL,
    event_id    text        NOT NULL,
    phase       text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (profile_id, event_id)
);
