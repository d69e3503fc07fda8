-- Two-factor authentication (README "Two-factor authentication"): TOTP factors, recovery codes, and the
-- challenges a login answers instead of tokens when the identity has an active factor.
--
-- A factor's secret is sealed (AES-256-GCM, lib/mfa/secret-box.ts: the factor id as associated data, the key
-- id in the sealed text so keys rotate); `last_used_step` is the last accepted TOTP time step, moved by the
-- one statement that accepts a code (`... where last_used_step < $step`): a code is accepted at most once,
-- and the code that activated a factor can never be its first login code.
create table attune.mfa_factor (
  id             uuid primary key,
  identity_id    bigint not null references attune.identity (id) on delete cascade,
  kind           text not null check (kind = 'totp'),
  secret_sealed  text not null,
  status         text not null check (status in ('pending', 'active')),
  created        timestamptz not null default now(),
  activated      timestamptz,
  last_used_step bigint not null default -1
);
-- One active TOTP factor per identity; pending ones are replaced by the next enrolment.
create unique index mfa_factor_active_idx on attune.mfa_factor (identity_id) where status = 'active';
create index mfa_factor_identity_idx on attune.mfa_factor (identity_id);

-- Recovery codes: Argon2id hashes (lib/passwords), single use. `hint` is the code's first two characters (10 of
-- its 50 bits), so a check verifies one hash, not ten.
create table attune.mfa_recovery_code (
  identity_id bigint not null references attune.identity (id) on delete cascade,
  id          smallint not null,
  hint        text not null,
  code_hash   text not null,
  used        timestamptz,
  primary key (identity_id, id)
);

-- A login waiting for its second factor: the `mfa_token` is only its SHA-256 here (it is 256 random bits). Single
-- use (deleted when it succeeds), short-lived, a few attempts; it remembers the credentials version the password
-- check saw, so a password change in between refuses it.
create table attune.mfa_challenge (
  token_hash          bytea primary key,
  identity_id         bigint not null references attune.identity (id) on delete cascade,
  credentials_version bigint not null,
  attempts            int not null default 0,
  created             timestamptz not null default now(),
  expires             timestamptz not null
);
create index mfa_challenge_identity_idx on attune.mfa_challenge (identity_id);
create index mfa_challenge_expires_idx on attune.mfa_challenge (expires);

-- The assurance of a session (RFC 9470's acr, RFC 8176's amr) and when its user last authenticated.
alter table attune.session add column acr text not null default 'aal1' check (acr in ('aal1', 'aal2'));
alter table attune.session add column amr text[] not null default '{pwd}';
alter table attune.session add column auth_time timestamptz;
update attune.session set auth_time = created;
alter table attune.session alter column auth_time set not null, alter column auth_time set default now();

grant select, insert, update, delete on attune.mfa_factor, attune.mfa_recovery_code, attune.mfa_challenge to attune_app;
