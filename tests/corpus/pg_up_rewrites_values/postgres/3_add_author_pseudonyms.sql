-- Authors publish under a pseudonym: keep the real name beside it.
-- migrate:up
SET lock_timeout = '2s';
SET statement_timeout = '60s';
ALTER TABLE authors ADD COLUMN pseudonym text;
UPDATE authors SET pseudonym = name, name = 'author ' || id;
-- migrate:down
SET lock_timeout = '2s';
SET statement_timeout = '60s';
UPDATE authors SET name = pseudonym;
ALTER TABLE authors DROP COLUMN pseudonym;
