-- Sign in with an OpenID Connect provider (README "Sign in with OpenID Connect").
--
-- A federated identity is one provider account (`provider`, `subject`: the issuer's stable `sub`, never an
-- email) linked to one of our identities; an identity links at most one account per provider. Identities
-- created by a provider sign-in have no password (identity.password_hash is null): their ways in are these rows.
create table attune.federated_identity (
  id          uuid primary key,
  identity_id bigint not null references attune.identity (id) on delete cascade,
  provider    text not null check (char_length(provider) between 1 and 32),
  subject     text not null check (char_length(subject) between 1 and 255),
  -- The address the provider said was verified at the last sign-in, for GET /auth/identities only.
  email       text,
  created     timestamptz not null default now(),
  last_used   timestamptz,
  unique (provider, subject),
  unique (identity_id, provider)
);

-- A sign-in (or a link) under way at a provider, keyed by the SHA-256 of its `state` (256 random bits): the
-- callback consumes it once (`delete ... returning`). It keeps our own PKCE verifier for the provider, the
-- nonce the ID token must carry, and the client's PKCE challenge and redirect_uri.
create table attune.oauth_flow (
  state_hash       bytea primary key check (octet_length(state_hash) = 32),
  provider         text not null,
  nonce            text not null,
  code_verifier    text not null,
  client_challenge text not null,
  redirect_uri     text not null,
  client_state     text,
  -- Set for a link (POST /auth/identities/{provider}/link): the identity that asked.
  link_identity_id bigint references attune.identity (id) on delete cascade,
  expires          timestamptz not null
);
create index oauth_flow_expires_idx on attune.oauth_flow (expires);

-- What a callback proved, until the client redeems it with the verifier of its PKCE challenge: the one-time
-- code (its SHA-256 only) lives 60 seconds and is deleted by the first redemption, right or wrong.
create table attune.oauth_code (
  code_hash        bytea primary key check (octet_length(code_hash) = 32),
  provider         text not null,
  subject          text not null,
  email            text,
  email_verified   boolean not null,
  name             text,
  client_challenge text not null,
  link_identity_id bigint references attune.identity (id) on delete cascade,
  expires          timestamptz not null
);
create index oauth_code_expires_idx on attune.oauth_code (expires);

-- A login challenge remembers how the first factor was proved: `pwd` (a password) or `fed` (a provider).
alter table attune.mfa_challenge add column first_method text not null default 'pwd' check (first_method in ('pwd', 'fed'));

grant select, insert, update, delete on attune.federated_identity, attune.oauth_flow, attune.oauth_code to attune_app;
