-- Route requirements (README "Protect your API"): what each route of an API behind the authorizer needs, as
-- data. A consuming API declares, per route (method and resource as API Gateway names them), the
-- permissions it needs; `enforce` refuses a caller without them (403 FORBIDDEN, through the ACCESS_DENIED
-- Gateway Response), `report` lets them through and logs `would_deny`. A route with several rows needs all of
-- their permissions. An API with no rows is not checked at all: only the caller's token and session are.
--
-- route_requirement_api.version moves with every change to an API's rows, in the same statement: the
-- authorizer reads the called API's version in its one session lookup and keeps that API's rows in each
-- container until it moves.
create table attune.route_requirement (
  api_id     text not null check (api_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  method     text not null check (method in ('*', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS')),
  -- The resource path as the API defines it (`/orders/{id}`, `/files/{proxy+}`); `*` matches anything.
  resource   text not null check (resource ~ '^/[A-Za-z0-9._~{}+*/-]*$' and char_length(resource) <= 512),
  permission text not null references attune.permission (name) on delete cascade,
  mode       text not null check (mode in ('enforce', 'report')),
  created    timestamptz not null default now(),
  primary key (api_id, method, resource, permission)
);

create table attune.route_requirement_api (
  api_id  text primary key,
  version bigint not null default 0
);

create function attune.route_requirement_changed() returns trigger
language plpgsql as $$
begin
  insert into attune.route_requirement_api as a (api_id, version)
  select changed.api_id, 1 from (select new.api_id union select old.api_id) changed where changed.api_id is not null
  on conflict (api_id) do update set version = a.version + 1;
  return null;
end
$$;

create trigger route_requirement_changed after insert or update or delete on attune.route_requirement
  for each row execute function attune.route_requirement_changed();

grant select, insert, update, delete on attune.route_requirement to attune_app;
grant select, insert, update on attune.route_requirement_api to attune_app;
