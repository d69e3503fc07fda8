-- Roles and permissions (README "Roles and permissions"). A permission is `resource:action`; a role is a set of
-- permissions; an identity holds roles, each granted by someone, optionally until a time.
--
-- identity.authz_version moves on with every change that can alter what an identity may do: its own grants
-- (identity_role) and the permissions of any role it holds (role_permission), by the triggers below, in the
-- same transaction as the change. The authorizer reads it in its one session lookup and caches an identity's
-- permissions by (identity, authz_version): a revocation is seen on the very next request.
create table attune.permission (
  name        text primary key check (name ~ '^[a-z][a-z0-9_-]{0,62}:[a-z*][a-z0-9_*-]{0,62}$'),
  description text not null default '',
  created     timestamptz not null default now()
);

create table attune.role (
  name        text primary key check (name ~ '^[a-z][a-z0-9_-]{0,62}$'),
  description text not null default '',
  created     timestamptz not null default now()
);

create table attune.role_permission (
  role       text not null references attune.role (name) on delete cascade,
  permission text not null references attune.permission (name) on delete cascade,
  primary key (role, permission)
);
create index role_permission_permission_idx on attune.role_permission (permission);

create table attune.identity_role (
  identity_id bigint not null references attune.identity (id) on delete cascade,
  role        text not null references attune.role (name) on delete cascade,
  -- Who granted it: an identity id, or null for the system (a migration, the admin CLI).
  granted_by  bigint,
  granted_at  timestamptz not null default now(),
  expires_at  timestamptz,
  primary key (identity_id, role)
);
create index identity_role_role_idx on attune.identity_role (role);

alter table attune.identity add column authz_version bigint not null default 0;

create function attune.identity_role_changed() returns trigger
language plpgsql as $$
begin
  update attune.identity set authz_version = authz_version + 1
  where id in (select coalesce(new.identity_id, old.identity_id) union select old.identity_id where tg_op = 'UPDATE');
  return null;
end
$$;

create trigger identity_role_changed after insert or update or delete on attune.identity_role
  for each row execute function attune.identity_role_changed();

create function attune.role_permission_changed() returns trigger
language plpgsql as $$
begin
  update attune.identity set authz_version = authz_version + 1
  where id in (select identity_id from attune.identity_role where role = coalesce(new.role, old.role));
  return null;
end
$$;

create trigger role_permission_changed after insert or update or delete on attune.role_permission
  for each row execute function attune.role_permission_changed();

-- The administrator's permission and role (the admin routes and `npm run admin` need it).
insert into attune.permission (name, description) values ('attune:admin', 'Administer Attune Auth: roles, permissions, grants');
insert into attune.role (name, description) values ('admin', 'Attune Auth administrators');
insert into attune.role_permission (role, permission) values ('admin', 'attune:admin');

grant select, insert, update, delete on attune.permission, attune.role, attune.role_permission, attune.identity_role to attune_app;
