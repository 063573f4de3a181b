-- harness:allow require-concurrent-index-creation,require-timeout-settings a test corpus table with a few rows
-- migrate:up
CREATE INDEX posts_state_idx ON posts (state);
-- migrate:down
DROP INDEX IF EXISTS posts_state_index;
