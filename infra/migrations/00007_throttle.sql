-- Throttle counters, shared by every Lambda container. A row per key: a keyed hash (HMAC-SHA-256 with
-- PSEUDONYM_KEY, 16 bytes) of what is counted, e.g. a login's canonical key or a source address's /64,
-- never the value itself. lib/db/throttle.ts holds the rules; the maintenance function deletes rows not
-- touched for a day, so a credential-stuffing run over millions of logins cannot grow the table for ever.
create table attune.throttle (
  key           bytea primary key,
  failures      integer not null,
  window_start  timestamptz not null,
  blocked_until timestamptz,
  touched       timestamptz not null
);

create index throttle_touched_idx on attune.throttle (touched);
