-- The suppression list (issue 4): addresses that get no more marketing email (unsubscribed through a link) or no
-- email at all (hard-bounced: the server refused the recipient for good).
CREATE TABLE email_suppressions (
    address TEXT NOT NULL PRIMARY KEY,   -- lower case
    reason  TEXT NOT NULL,               -- unsubscribed, hard-bounce
    at      TEXT NOT NULL,
    detail  TEXT NULL                    -- the action whose link was used, or the server's reply
);
