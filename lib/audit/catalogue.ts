/**
 * What each audit event type records, for people: README "Audit log" renders this table (a unit test keeps
 * the two equal), `npm run audit` validates `--type` against it. Not imported by the functions, whose
 * bundles need only the type names (lib/audit/events.ts).
 */
import type { AuditEventType } from './events.js'

export const AUDIT_EVENTS: Readonly<Record<AuditEventType, string>> = {
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
}

/** AUDIT_EVENTS as the README's table. */
export function auditEventTable(): string {
  const rows = Object.entries(AUDIT_EVENTS).map(([type, description]) => `| \`${type}\` | ${description.replace(/\|/g, '\\|')} |`)
  return ['| Event | What it records |', '| --- | --- |', ...rows].join('\n')
}
