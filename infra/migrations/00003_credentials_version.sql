-- A password change moves credentials_version on; a login opens its session only at the version whose
-- password it verified (lib/db/sessions.ts), so a login racing a password change cannot outlive it.
alter table attune.identity add column credentials_version bigint not null default 1;

-- The scheduled cleanup deletes sessions that ended or expired long ago (lib/db/sessions.ts purgeEnded).
create index session_revoked_idx on attune.session (revoked) where revoked is not null;
create index session_expires_idx on attune.session (expires);
