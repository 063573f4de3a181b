-- migrate:up
CREATE TABLE tags (name text PRIMARY KEY);
-- migrate:down
DROP TABLE tags;
DELETE FROM posts;
