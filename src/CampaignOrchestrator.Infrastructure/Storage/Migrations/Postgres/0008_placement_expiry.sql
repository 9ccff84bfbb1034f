-- Expired banners are cleared (banner.cleared) by a sweep that reads them by expiry.
CREATE INDEX ix_placements_expires ON placements (expires_at) WHERE expires_at IS NOT NULL;
