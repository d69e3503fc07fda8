-- The seed's identity table. Passwords are kept in password_hash (nullable: external identities and
-- service accounts have none). Logins are unique regardless of letter case.
create schema if not exists attune;

create table attune.identity (
  id           bigserial primary key,
  login        text not null unique,
  display_name text,
  attributes   jsonb not null default '{}'::jsonb,
  password_hash text,
  created      timestamptz not null default now(),
  updated      timestamptz not null default now()
);

create unique index identity_login_lower_key on attune.identity (lower(login));
