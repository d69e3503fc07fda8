-- Route requirements on how the caller signed in (README "Route requirements"): a row may ask for an assurance
-- level (`min_acr`: aal2 is a sign-in with a second factor) and a sign-in at most `max_age` seconds old, with or
-- without a permission; it needs at least one of the three. A route has one row per permission and at most one
-- without (NULLS NOT DISTINCT: PostgreSQL 15 or later, as Aurora 15.x/16.x, CI's 15 and npm start's 17 are).
-- Migration 13's trigger fires on every row change, so these columns move the API's version too.
alter table attune.route_requirement drop constraint route_requirement_pkey;
alter table attune.route_requirement
  alter column permission drop not null,
  add column min_acr text check (min_acr in ('aal1', 'aal2')),
  add column max_age integer check (max_age between 0 and 31536000),
  add constraint route_requirement_needs_something check (permission is not null or min_acr is not null or max_age is not null),
  add constraint route_requirement_route_permission unique nulls not distinct (api_id, method, resource, permission);
