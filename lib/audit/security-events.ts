/**
 * `GET /auth/security-events`: the caller's own audit events of the last AUDIT_USER_VISIBLE_DAYS, newest
 * first, a page at a time. Only events whose `identity_id` is the caller's are ever read; the operator's
 * view of everything is `npm run audit` (infra/audit.ts).
 */

import type { SecurityEventsInput } from '../auth/requests.js'
import { encodeCursor } from '../auth/requests.js'
import type { Caller } from '../auth/sessions.js'
import type { Config } from '../config.js'
import type { AuditRepository } from '../db/audit.js'
import type { AuditEventType } from './events.js'

/** One entry of `GET /auth/security-events`. */
export interface SecurityEventView {
  id: number
  type: AuditEventType
  occurred_at: string
  source_ip: string | null
  user_agent: string | null
  /** The event concerns the session making this request. */
  current_session: boolean
  /** Why, when the event has a reason (`session.ended`). */
  reason: string | null
}

export interface SecurityEventsPage {
  events: SecurityEventView[]
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  next_cursor: string | null
}

export interface SecurityEventRules {
  list(caller: Caller, query: SecurityEventsInput): Promise<SecurityEventsPage>
}

export interface SecurityEventRuleDependencies {
  config: Pick<Config, 'audit'>
  audit: AuditRepository
}

export function createSecurityEventRules({ config, audit }: SecurityEventRuleDependencies): SecurityEventRules {
  return {
    async list({ identityId, sessionId }, { cursor, limit }) {
      // One more than the page, to know whether an older page exists.
      const rows = await audit.listForIdentity(identityId, { days: config.audit.userVisibleDays, before: cursor, limit: limit + 1 })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        events: page.map((event) => ({
          id: event.id,
          type: event.type,
          occurred_at: event.occurredAt.toISOString(),
          source_ip: event.sourceIp,
          user_agent: event.userAgent,
          current_session: event.sessionId !== null && event.sessionId === sessionId,
          reason: typeof event.data['reason'] === 'string' ? event.data['reason'] : null,
        })),
        next_cursor: rows.length > limit && last ? encodeCursor(last.id) : null,
      }
    },
  }
}
