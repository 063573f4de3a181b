-- Bodies move to a table of their own.
-- harness:allow prefer-bigint-over-int post ids are posts.id, an integer
-- harness:allow ban-drop-column no release reads posts.body any more
-- migrate:up
SET lock_timeout = '2s';
SET statement_timeout = '60s';
CREATE TABLE post_bodies (
    post_id integer PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    body text NOT NULL
);
INSERT INTO post_bodies (post_id, body) SELECT id, body FROM posts WHERE body IS NOT NULL;
ALTER TABLE posts DROP COLUMN body;
-- migrate:down
SET lock_timeout = '2s';
SET statement_timeout = '60s';
ALTER TABLE posts ADD COLUMN body text;
DROP TABLE post_bodies;
