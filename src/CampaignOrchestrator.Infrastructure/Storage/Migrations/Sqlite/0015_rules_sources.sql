-- Rules history (issue 16): each version keeps its files' text (JSON object: name relative to the rules folder -> YAML),
-- so GET /api/rules/versions/{version} shows what was in force then. Null for versions an earlier release recorded.
ALTER TABLE rules_versions ADD COLUMN sources TEXT NULL;
