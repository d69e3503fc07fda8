-- Email addresses, their one-time tokens, and the outbox the mailer function sends from (README "Email and
-- password reset").
--
-- attune.identity.email holds only VERIFIED addresses, unique whatever their letter case. An address waiting
-- for verification lives only in its token row, so nobody can hold an address without proving they own it.
alter table attune.identity add column email text;
create unique index identity_email_key on attune.identity (lower(email));

-- One-time tokens sent by mail: only the SHA-256 of each is kept. An identity has at most one live token per
-- purpose (a new one replaces the old); redeeming one deletes it in the same statement that reads it.
create table attune.email_token (
  token_hash  bytea primary key,
  identity_id bigint not null references attune.identity (id) on delete cascade,
  purpose     text not null check (purpose in ('verify_email', 'password_reset')),
  -- verify_email: the address being verified; password_reset: the verified address it was sent to.
  email       text not null,
  created     timestamptz not null default now(),
  expires     timestamptz not null
);
create unique index email_token_identity_purpose_key on attune.email_token (identity_id, purpose);
create index email_token_expires_idx on attune.email_token (expires);

-- Mail to send, written in the same statement or transaction as what it tells. The mailer function takes rows
-- with FOR UPDATE SKIP LOCKED, sends them through SES, and then erases `data` of everything secret (a link with
-- a token) while keeping the row for a while as a record. Failed sends are retried with a growing wait.
create table attune.outbox (
  id           bigserial primary key,
  created      timestamptz not null default now(),
  template     text not null,
  recipient    text not null,
  data         jsonb not null default '{}'::jsonb check (jsonb_typeof(data) = 'object'),
  attempts     integer not null default 0,
  next_attempt timestamptz not null default now(),
  sent         timestamptz,
  message_id   text,
  last_error   text
);
create index outbox_pending_idx on attune.outbox (next_attempt) where sent is null;
create index outbox_created_idx on attune.outbox (created);

grant select, insert, update, delete on attune.email_token, attune.outbox to attune_app;
grant usage on all sequences in schema attune to attune_app;
