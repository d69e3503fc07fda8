/**
 * The audit log's vocabulary: every event type, who may cause one, and why a session ends. This list is
 * the one place an event type is defined (lib/audit/catalogue.ts says what each records, and README "Audit
 * log" renders that; unit tests keep them equal), and lib/db/audit.ts writes the rows, each in the same
 * statement or transaction as the change it records.
 *
 * Only changes are recorded. What changes nothing (a failed login, a refresh, an authorizer decision) stays
 * a structured log line, so a credential-stuffing run cannot grow the table without bound.
 */
import type { RevokeReason } from '../db/sessions.js'

/** Every event type; what each records is in lib/audit/catalogue.ts (kept out of the functions' bundles). */
export const AUDIT_EVENT_TYPES = [
  'identity.registered',
  'session.created',
  'session.ended',
  'password.changed',
  'refresh.reuse_detected',
  'login.throttled',
  'account.locked',
  'password.reset_requested',
  'password.reset_completed',
  'email.verification_requested',
  'email.verified',
  'permission.created',
  'role.created',
  'role.permissions_changed',
  'role.granted',
  'role.revoked',
  'route_requirements.changed',
  'mfa.enabled',
  'mfa.recovery_code_used',
  'mfa.disabled',
  'mfa.recovery_codes_regenerated',
  'session.reauthenticated',
  'service_account.created',
  'api_key.created',
  'api_key.revoked',
  'api_key.rotated',
  'identity.linked',
  'identity.unlinked',
  'identity.suspended',
  'identity.unsuspended',
] as const

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number]

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
