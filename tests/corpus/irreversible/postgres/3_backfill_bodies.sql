-- harness:transforms posts.body
-- migrate:up
UPDATE posts SET body = '' WHERE body IS NULL;
-- migrate:down
