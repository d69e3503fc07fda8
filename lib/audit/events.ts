/**
 * The audit log's vocabulary: every event type, who may cause one, and why a session ends. This list is
 * the one place an event type is defined; README "Audit log" renders it (a unit test keeps the two equal),
 * and lib/db/audit.ts writes the rows, each in the same statement or transaction as the change it records.
 *
 * Only changes are recorded. What changes nothing (a failed login, a refresh, an authorizer decision) stays
 * a structured log line, so a credential-stuffing run cannot grow the table without bound.
 */
import type { RevokeReason } from '../db/sessions.js'

/** Every event type, with what it records (rendered into the README). */
export const AUDIT_EVENTS = {
  'identity.registered': 'An account was created (`POST /auth/register`).',
  'session.created':
    'A session opened: `data.method` is `password` (a login) or `registration`. Its `session_id`, source address and user agent are those of the new session.',
  'session.ended':
    'A session ended; `data.reason` says why: `logout`, `logout_all`, `logout_others`, `ended_by_user` (`DELETE /auth/sessions/{id}`), `password_changed`, `refresh_token_reused`, `session_limit` (the oldest beyond `MAX_SESSIONS_PER_IDENTITY`), `password_guessing` (repeated wrong current passwords on change-password), or `expired` (written by the maintenance function when it deletes a session that expired without being ended).',
  'password.changed': 'The password was changed (`POST /auth/change-password`); `data.other_sessions_ended` counts the sessions it ended.',
  'refresh.reuse_detected':
    'A refresh token that had already been used was presented again: the session is revoked (with its own `session.ended`).',
  'login.throttled':
    "The account's free login attempts (`LOGIN_FREE_ATTEMPTS`) are used up: each further attempt waits, doubling. `data.failures` counts them.",
  'account.locked':
    'Failed logins went on until the wait between attempts reached its maximum (`LOGIN_MAX_DELAY_SECONDS`). Attune never locks an account for good (that would let anyone lock anyone out): it allows one attempt per maximum wait until `LOGIN_RESET_SECONDS` pass without a failure, or a login succeeds.',
} as const satisfies Record<string, string>

export type AuditEventType = keyof typeof AUDIT_EVENTS

export type AuditOutcome = 'success' | 'failure'

/**
 * Who caused the change: the identity itself (`user`: `actor_id` is the row's `identity_id`), the service on
 * its own (`system`: the maintenance function, a throttle), or, in later features, an administrator or a
 * service account (their id).
 */
export type Actor = { type: 'user' } | { type: 'system' } | { type: 'admin' | 'service'; id: string }

export const USER: Actor = { type: 'user' }
export const SYSTEM: Actor = { type: 'system' }

/** Why a session ended (`session.ended`'s `data.reason`): a revocation, or expiry noticed by the maintenance function. */
export type SessionEndReason = RevokeReason | 'expired'

/** Where the change was asked from: API Gateway's request id, the client's address and user agent. */
export interface Origin {
  requestId: string | null
  sourceIp: string | null
  userAgent: string | null
}

/** The origin of what the service does on its own (the maintenance function): only Lambda's request id. */
export const systemOrigin = (requestId: string | null): Origin => ({ requestId, sourceIp: null, userAgent: null })

/** Renders AUDIT_EVENTS as the README's table. */
export function auditEventTable(): string {
  const rows = Object.entries(AUDIT_EVENTS).map(([type, description]) => `| \`${type}\` | ${description.replace(/\|/g, '\\|')} |`)
  return ['| Event | What it records |', '| --- | --- |', ...rows].join('\n')
}
