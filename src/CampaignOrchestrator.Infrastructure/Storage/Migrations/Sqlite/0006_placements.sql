-- Banners (issue 4): the customer's current banner per slot, what the webshop reads when it renders a page
-- (GET /api/placements/{id}). Written when a banner step is recorded delivered, in the same transaction; a later
-- assignment to the same slot replaces it. A device merged into a customer brings its placements along.
CREATE TABLE placements (
    profile_id  TEXT NOT NULL,
    slot        TEXT NOT NULL,
    creative    TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    action_id   TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    expires_at  TEXT NULL,            -- the step's ttl after assigned_at; null: until replaced
    PRIMARY KEY (profile_id, slot)
) WITHOUT ROWID;
