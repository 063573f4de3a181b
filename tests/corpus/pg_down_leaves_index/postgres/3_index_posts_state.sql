-- migrate:up
CREATE INDEX posts_state_idx ON posts (state);
-- migrate:down
DROP INDEX IF EXISTS posts_state_index;
