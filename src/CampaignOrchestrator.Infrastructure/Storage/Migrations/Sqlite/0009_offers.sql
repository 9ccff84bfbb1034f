-- Offers (issue 4): every issued coupon code with its discount and expiry; offer_redeemed marks it used. A device
-- merged into a customer brings its offers along.
CREATE TABLE offers (
    code              TEXT NOT NULL PRIMARY KEY,   -- readable, not guessable, unique (see Channels/OfferChannel.cs)
    profile_id        TEXT NOT NULL,
    campaign_id       TEXT NOT NULL,
    action_id         TEXT NOT NULL UNIQUE,        -- one code per action, also when it is fired again
    discount_percent  REAL NULL,
    amount            REAL NULL,
    issued_at         TEXT NOT NULL,
    expires_at        TEXT NULL,                  -- the step's validFor after issued_at; null: no expiry
    redeemed_at       TEXT NULL,
    redeemed_event_id TEXT NULL
);
CREATE INDEX ix_offers_profile ON offers (profile_id);

-- Secrets this installation made for itself (created at first use, shared by every worker on the database).
CREATE TABLE worker_secrets (
    name       TEXT NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at TEXT NOT NULL
);
