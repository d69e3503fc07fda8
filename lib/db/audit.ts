/**
 * The audit log, `attune.audit_event` (infra/migrations/00010_audit_event.sql). Rows are written only by
 * `recordEvents`, a SQL fragment that the repositories put into the very statement (or transaction) that
 * makes the change, so a change and its record commit or roll back together. Reading is by identity (the
 * user's own view, the operator's CLI) and the maintenance function manages the monthly partitions.
 */
import type { Actor, AuditEventType, AuditOutcome, Origin } from '../audit/events.js'
import type { Fragment, Queryable, Sql } from './client.js'

/** Months of audit partitions kept ready beyond the current one (the maintenance function runs hourly). */
export const AUDIT_PARTITIONS_AHEAD = 3

/**
 * What an event carries beyond its columns: flat values only, written by the code that records the event,
 * never a request body. Never a password, hash, token, key or secret (tests/integration/reliability/log-hygiene.test.ts
 * searches the table for them).
 */
export type AuditData = Readonly<Record<string, string | number | boolean | null>>

/** The parts of an event that the statement knows before it runs. */
export interface AuditEntry {
  type: AuditEventType
  outcome: AuditOutcome
  actor: Actor
  origin: Origin
}

/** One event whose identity and session are known in advance. */
export interface KnownAuditEvent extends AuditEntry {
  identityId: number | null
  sessionId: string | null
  data?: AuditData
}

/**
 * SQL: one audit row per row of `rows`, a query answering `identity_id` (bigint), `session_id` (uuid) and
 * `data` (a jsonb object). A CTE body, or a statement of its own inside a transaction.
 */
export function recordEvents(sql: Queryable, entry: AuditEntry, rows: Fragment): Fragment {
  const { actor, origin } = entry
  const actorId = actor.type === 'user' ? sql`r.identity_id::text` : actor.type === 'system' ? sql`null::text` : sql`${actor.id}::text`
  return sql`
    insert into attune.audit_event (type, outcome, identity_id, actor_type, actor_id, session_id, request_id, source_ip, user_agent, data)
    select ${entry.type}, ${entry.outcome}, r.identity_id, ${actor.type}, ${actorId}, r.session_id,
           ${origin.requestId}::text, ${origin.sourceIp}::text, ${origin.userAgent}::text, r.data
    from (${rows}) r`
}

/** SQL: the one audit row of an event whose identity and session are known. */
export function recordEvent(sql: Queryable, event: KnownAuditEvent): Fragment {
  return recordEvents(
    sql,
    event,
    sql`select ${event.identityId}::bigint as identity_id, ${event.sessionId}::uuid as session_id, ${sql.json(event.data ?? {})}::jsonb as data`,
  )
}

/** SQL: `jsonb_build_object('reason', <reason>)`, the data of `session.ended`. */
export function endReason(sql: Queryable, reason: string): Fragment {
  return sql`jsonb_build_object('reason', ${reason}::text)`
}

export interface AuditEvent {
  id: number
  occurredAt: Date
  type: AuditEventType
  outcome: AuditOutcome
  identityId: number | null
  actorType: Actor['type']
  actorId: string | null
  sessionId: string | null
  requestId: string | null
  sourceIp: string | null
  userAgent: string | null
  data: Record<string, unknown>
}

export interface AuditSearch {
  identityId?: number | undefined
  type?: AuditEventType | undefined
  since?: Date | undefined
  until?: Date | undefined
  limit: number
}

export interface AuditRepository {
  /** The identity's events of the last `days` days, newest first, only those before the event `before` when given. */
  listForIdentity(identityId: number, options: { days: number; before?: number | undefined; limit: number }): Promise<AuditEvent[]>
  /** The operator's search (npm run audit), newest first. */
  search(search: AuditSearch): Promise<AuditEvent[]>
  /** Creates this month's partition and the next `monthsAhead`' that are missing; answers how many it created. */
  preparePartitions(monthsAhead: number): Promise<number>
  /** Drops the partitions whose month ended more than `retentionDays` ago; answers their names. */
  dropPartitions(retentionDays: number): Promise<string[]>
}

interface Row {
  id: string
  occurred_at: Date
  type: AuditEventType
  outcome: AuditOutcome
  identity_id: string | null
  actor_type: Actor['type']
  actor_id: string | null
  session_id: string | null
  request_id: string | null
  source_ip: string | null
  user_agent: string | null
  data: Record<string, unknown>
}

const toEvent = (row: Row): AuditEvent => ({
  id: Number(row.id),
  occurredAt: row.occurred_at,
  type: row.type,
  outcome: row.outcome,
  identityId: row.identity_id === null ? null : Number(row.identity_id),
  actorType: row.actor_type,
  actorId: row.actor_id,
  sessionId: row.session_id,
  requestId: row.request_id,
  sourceIp: row.source_ip,
  userAgent: row.user_agent,
  data: row.data,
})

export function createAuditRepository(sql: Sql): AuditRepository {
  return {
    async listForIdentity(identityId, { days, before, limit }) {
      const rows = await sql<Row[]>`
        select * from attune.audit_event
        where identity_id = ${identityId} and occurred_at > now() - make_interval(days => ${days})
          ${before === undefined ? sql`` : sql`and id < ${before}`}
        order by id desc
        limit ${limit}`
      return rows.map(toEvent)
    },

    async search({ identityId, type, since, until, limit }) {
      const conditions = [
        identityId === undefined ? undefined : sql`identity_id = ${identityId}`,
        type === undefined ? undefined : sql`type = ${type}`,
        since === undefined ? undefined : sql`occurred_at >= ${since}`,
        until === undefined ? undefined : sql`occurred_at < ${until}`,
      ].filter((condition) => condition !== undefined)
      const where = conditions.reduce((all, condition) => sql`${all} and ${condition}`, sql`true`)
      const rows = await sql<Row[]>`select * from attune.audit_event where ${where} order by id desc limit ${limit}`
      return rows.map(toEvent)
    },

    async preparePartitions(monthsAhead) {
      const [row] = await sql<{ created: number }[]>`select attune.audit_prepare_partitions(${monthsAhead}) as created`
      return row?.created ?? 0
    },

    async dropPartitions(retentionDays) {
      const rows = await sql<{ name: string }[]>`select attune.audit_drop_partitions(${retentionDays}) as name`
      return rows.map((row) => row.name)
    },
  }
}
