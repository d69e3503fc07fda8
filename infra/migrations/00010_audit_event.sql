-- The audit log (README "Audit log"): one row per security-relevant change, written in the same statement or
-- transaction as the change (lib/db/audit.ts), so there is never one without the other. The event types are
-- the typed union AUDIT_EVENTS in lib/audit/events.ts.
--
-- Append-only: a trigger refuses UPDATE and DELETE from anyone (the table's owner included), and the
-- application's role attune_app may only insert and select. Old rows leave only with their whole month:
-- the table is partitioned by month, the scheduled maintenance function creates partitions ahead
-- (attune.audit_prepare_partitions) and drops those past AUDIT_RETENTION_DAYS (attune.audit_drop_partitions).
-- identity_id has no foreign key: the history outlives the account.
create table attune.audit_event (
  id          bigserial not null,
  occurred_at timestamptz not null default now(),
  type        text not null check (type ~ '^[a-z_]+(\.[a-z_]+)+$'),
  outcome     text not null check (outcome in ('success', 'failure')),
  identity_id bigint,
  actor_type  text not null check (actor_type in ('user', 'admin', 'service', 'system')),
  actor_id    text,
  session_id  uuid,
  request_id  text,
  source_ip   text,
  user_agent  text,
  data        jsonb not null default '{}'::jsonb check (jsonb_typeof(data) = 'object'),
  primary key (id, occurred_at)
) partition by range (occurred_at);

-- A user's own events, newest first (GET /auth/security-events, npm run audit -- --identity).
create index audit_event_identity_idx on attune.audit_event (identity_id, id desc);
create index audit_event_occurred_idx on attune.audit_event (occurred_at);

create function attune.audit_event_refuse_change() returns trigger
language plpgsql as $$
begin
  raise exception 'attune.audit_event is append-only: % refused', tg_op using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_event_append_only before update or delete on attune.audit_event
  for each row execute function attune.audit_event_refuse_change();
-- A statement trigger is not inherited: each partition gets its own (attune.audit_prepare_partitions).
create trigger audit_event_no_truncate before truncate on attune.audit_event
  for each statement execute function attune.audit_event_refuse_change();

-- Partitions are named audit_event_YYYY_MM and hold that UTC month. Creates this month's and the next
-- `months_ahead` ones that do not exist yet; answers how many it created.
create function attune.audit_prepare_partitions(months_ahead integer) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  first_month date := date_trunc('month', now() at time zone 'UTC')::date;
  month date;
  created integer := 0;
begin
  -- Two maintenance runs at once create each partition once.
  perform pg_advisory_xact_lock(hashtext('attune.audit_event partitions'));
  for i in 0..months_ahead loop
    month := (first_month + make_interval(months => i))::date;
    if to_regclass(format('attune.audit_event_%s', to_char(month, 'YYYY_MM'))) is null then
      execute format(
        'create table attune.%I partition of attune.audit_event for values from (%L) to (%L)',
        'audit_event_' || to_char(month, 'YYYY_MM'),
        to_char(month, 'YYYY-MM-DD') || ' 00:00:00+00',
        to_char((month + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
      execute format(
        'create trigger audit_event_no_truncate before truncate on attune.%I '
        'for each statement execute function attune.audit_event_refuse_change()',
        'audit_event_' || to_char(month, 'YYYY_MM'));
      created := created + 1;
    end if;
  end loop;
  return created;
end
$$;

-- Drops the partitions whose whole month ended more than `retention_days` ago; answers their names.
create function attune.audit_drop_partitions(retention_days integer) returns setof text
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  partition record;
begin
  perform pg_advisory_xact_lock(hashtext('attune.audit_event partitions'));
  for partition in
    select c.relname
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    join pg_namespace n on n.oid = c.relnamespace
    where i.inhparent = 'attune.audit_event'::regclass and n.nspname = 'attune'
      and c.relname ~ '^audit_event_[0-9]{4}_[0-9]{2}$'
      and (to_date(substring(c.relname from 13), 'YYYY_MM') + interval '1 month') at time zone 'UTC'
          <= now() - make_interval(days => retention_days)
    order by c.relname
  loop
    execute format('drop table attune.%I', partition.relname);
    return next partition.relname;
  end loop;
end
$$;

-- The maintenance function keeps them AUDIT_PARTITIONS_AHEAD (lib/db/audit.ts) months ahead from now on.
select attune.audit_prepare_partitions(3);

-- The application's role: data rights only, and on the audit log insert and select, never update or delete.
-- Login roles of the application are granted it (docs/DEPLOY.md); the partition functions are the owner's.
do $$
begin
  create role attune_app nologin;
exception when duplicate_object or unique_violation then
  null; -- another database of this cluster made it first
end
$$;

grant usage on schema attune to attune_app;
grant select, insert, update, delete on attune.identity, attune.session, attune.throttle to attune_app;
grant select on attune.common_password to attune_app;
grant select, insert on attune.audit_event to attune_app;
grant usage on all sequences in schema attune to attune_app;
revoke all on function attune.audit_prepare_partitions(integer) from public;
revoke all on function attune.audit_drop_partitions(integer) from public;
