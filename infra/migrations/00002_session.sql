-- Sessions: every register or login opens one. A session's refresh token is single-use: refresh_jti is
-- the one that may be redeemed now; previous_jti the one it replaced (redeemable again only within the
-- grace window, and answered with the same successor). Any older token of the session is a replay.
create table attune.session (
  id            uuid primary key,
  identity_id   bigint not null references attune.identity (id) on delete cascade,
  refresh_jti   uuid not null,
  refresh_iat   bigint not null,
  previous_jti  uuid,
  rotated       timestamptz,
  user_agent    text,
  source_ip     text,
  created       timestamptz not null default now(),
  last_used     timestamptz not null default now(),
  expires       timestamptz not null,
  revoked       timestamptz,
  revoked_reason text
);

create index session_identity_active_idx on attune.session (identity_id) where revoked is null;
