-- Service accounts and their API keys (README "Service accounts"). A service account is an identity of kind
-- `service`: no password (so no login, no session, no refresh), roles like anyone; its login is
-- `service:<name>`, in the same unique namespace as every login.
--
-- An API key is stored as its SHA-256 only (the key is 256 random bits: a fast hash is right here), with a
-- display form for listings. Its scopes are a subset of its account's permissions when it is made; what it may
-- do is the intersection of its scopes and the account's permissions now, so a role taken from the account
-- reaches its keys at once. `last_used` is written at most once a minute by the authorizer's lookup.
alter table attune.identity add column kind text not null default 'user' check (kind in ('user', 'service'));
alter table attune.identity add constraint identity_service_has_no_password check (kind = 'user' or password_hash is null);

create table attune.api_key (
  id          uuid primary key,
  identity_id bigint not null references attune.identity (id) on delete cascade,
  name        text not null check (char_length(name) between 1 and 64),
  key_hash    bytea not null unique check (octet_length(key_hash) = 32),
  display     text not null,
  scopes      text[] not null default '{}',
  created     timestamptz not null default now(),
  created_by  text,
  expires_at  timestamptz not null,
  last_used   timestamptz,
  revoked_at  timestamptz,
  -- The key that replaced this one (a rotation): this one keeps working until its (shortened) expiry.
  replaced_by uuid references attune.api_key (id)
);
create index api_key_identity_idx on attune.api_key (identity_id);

grant select, insert, update on attune.api_key to attune_app;
