-- A dbmate multi-section file: the comment in a transaction, the index without one
-- (CREATE INDEX CONCURRENTLY cannot run inside a transaction block).
-- migrate:up
SET LOCAL lock_timeout = '5s';
SET LOCAL statement_timeout = '30s';
COMMENT ON COLUMN activities.title IS 'searched case-insensitively (activities_lower_title_idx)';
-- migrate:down
COMMENT ON COLUMN activities.title IS NULL;

-- migrate:up transaction:false
-- harness:allow require-timeout-settings built CONCURRENTLY: writes go on; a timeout here would only leave an INVALID index
CREATE INDEX CONCURRENTLY IF NOT EXISTS activities_lower_title_idx ON activities (lower(title));
-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS activities_lower_title_idx;
