-- migrate:up
-- Membership: deleting a user or a group removes the membership, never the other side.
CREATE TABLE groups_users_user (
    groups_id integer NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    users_id integer NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (groups_id, users_id)
);
-- The primary key serves lookups by group; this one serves "groups of a user".
CREATE INDEX groups_users_user_users_id_idx ON groups_users_user (users_id);

-- migrate:down
DROP TABLE groups_users_user;
