-- Every identity has its key and skeleton (migration 5 filled them, or refused to), and they are unique.
-- The locale-dependent lower(login) index goes: the key decides now, the same on every database.
alter table attune.identity alter column login_key set not null, alter column login_skeleton set not null;
create unique index identity_login_key_key on attune.identity (login_key);
create unique index identity_login_skeleton_key on attune.identity (login_skeleton);
drop index attune.identity_login_lower_key;
