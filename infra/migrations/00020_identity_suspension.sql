-- Suspending an account (README "Sessions, refresh and logout"): an administrator's stop on every way in. While
-- `suspended_at` is set no session opens for the identity (lib/db/sessions.ts `open` reads it under the row's
-- share lock), a login answers as for a wrong password, and its API keys are refused. Suspending also moves
-- `credentials_version`, so a sign-in already past its password or a two-factor challenge opened before it
-- can no longer finish, and ends every session (lib/db/suspensions.ts).
alter table attune.identity
  add column suspended_at timestamptz,
  add column suspended_reason text check (char_length(suspended_reason) <= 200),
  add constraint identity_reason_only_when_suspended check (suspended_at is not null or suspended_reason is null);
