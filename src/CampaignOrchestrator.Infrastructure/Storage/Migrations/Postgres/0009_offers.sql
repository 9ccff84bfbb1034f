-- Offers (issue 4): every issued coupon code with its discount and expiry; offer_redeemed marks it used. A device
-- merged into a customer brings its offers along.
CREATE TABLE offers (
    code              text NOT NULL PRIMARY KEY,   -- readable, not guessable, unique (see Channels/OfferChannel.cs)
    profile_id        text NOT NULL,
    campaign_id       text NOT NULL,
    action_id         text NOT NULL UNIQUE,        -- one code per action, also when it is fired again
    discount_percent  numeric NULL,
    amount            numeric NULL,
    issued_at         timestamptz NOT NULL,
    expires_at        timestamptz NULL,                  -- the step's validFor after issued_at; null: no expiry
    redeemed_at       timestamptz NULL,
    redeemed_event_id text NULL
);
CREATE INDEX ix_offers_profile ON offers (profile_id);

-- Secrets this installation made for itself (created at first use, shared by every worker on the database).
CREATE TABLE worker_secrets (
    name       text NOT NULL PRIMARY KEY,
    value      text NOT NULL,
    created_at timestamptz NOT NULL
);
