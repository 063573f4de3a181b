-- Users get a display name, filled from their name; emails are kept lowercase from now on.
-- harness:transforms users.email
-- harness:lossy-down the case an email was written in is not kept
-- migrate:up
ALTER TABLE users ADD COLUMN display_name text;
UPDATE users SET display_name = name, email = lower(email);
ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;
-- migrate:down
ALTER TABLE users DROP COLUMN display_name;
