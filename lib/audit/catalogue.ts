/**
 * What each audit event type records, for people: README "Audit log" renders this table (a unit test keeps
 * the two equal), `npm run audit` validates `--type` against it. Not imported by the functions, whose
 * bundles need only the type names (lib/audit/events.ts).
 */
import type { AuditEventType } from './events.js'

export const AUDIT_EVENTS: Readonly<Record<AuditEventType, string>> = {
  'identity.registered':
    'An account was created: by `POST /auth/register`, or by a first sign-in with a provider (`POST /auth/oauth/token`; `data.provider` names it).',
  'session.created':
    'A session opened: `data.method` is `password` (a login), `provider` (a sign-in with an OpenID Connect provider), `mfa` (a sign-in completed with a second factor, `POST /auth/mfa/verify`) or `registration`. Its `session_id`, source address and user agent are those of the new session.',
  'session.ended':
    'A session ended; `data.reason` says why: `logout`, `logout_all`, `logout_others`, `ended_by_user` (`DELETE /auth/sessions/{id}`), `password_changed`, `refresh_token_reused`, `session_limit` (the oldest beyond `MAX_SESSIONS_PER_IDENTITY`), `password_guessing` (repeated wrong current passwords on change-password), `password_reset`, `mfa_enabled` (the identity turned two-factor authentication on from another session), `ended_by_admin` (an administrator ended them: `npm run admin -- end-sessions`, `DELETE /admin/identities/{id}/sessions`), `suspended` (an administrator suspended the identity), or `expired` (written by the maintenance function when it deletes a session that expired without being ended).',
  'password.changed': 'The password was changed (`POST /auth/change-password`); `data.other_sessions_ended` counts the sessions it ended.',
  'refresh.reuse_detected':
    'A refresh token that had already been used was presented again: the session is revoked (with its own `session.ended`).',
  'login.throttled':
    "The account's free login attempts (`LOGIN_FREE_ATTEMPTS`) are used up: each further attempt waits, doubling. `data.failures` counts them.",
  'account.locked':
    'Failed logins went on until the wait between attempts reached its maximum (`LOGIN_MAX_DELAY_SECONDS`). Attune never locks an account for good (that would let anyone lock anyone out): it allows one attempt per maximum wait until `LOGIN_RESET_SECONDS` pass without a failure, or a login succeeds.',
  'password.reset_requested':
    'A password-reset mail was queued for the account (`POST /auth/password/forgot`). Nothing is recorded for an unknown login, an account without a verified address, or a request refused by the per-account mail limit.',
  'password.reset_completed':
    'The password was replaced with a reset token (`POST /auth/password/reset`): every session ended (each with its `session.ended`, reason `password_reset`) and the login throttle was cleared.',
  'email.verification_requested':
    'A verification mail was queued for a new address (at registration, `POST /auth/email` or `POST /auth/email/resend`); `data.notified_owner` is true when the address already belonged to another account, whose owner was told instead.',
  'email.verified': "An address was verified (`POST /auth/email/verify`) and is now the account's email.",
  'permission.created': 'A permission was defined (`data.permission`); `identity_id` is empty, the actor says who.',
  'role.created': 'A role was defined with its permissions (`data.role`, `data.permissions`).',
  'role.permissions_changed':
    "A role's permissions were replaced (`data.role`, `data.permissions`): every holder's next request sees them.",
  'role.granted':
    'The identity was given a role (`data.role`, and `data.expires_at` when the grant ends); the actor is the administrator. Seen by the authorizer on the next request.',
  'role.revoked': 'A role was taken from the identity (`data.role`): refused on the next request, whatever its tokens say.',
  'route_requirements.changed':
    'The route requirements of the API `data.api_id` were replaced (`data.added`, `data.changed`, `data.removed` rows; `data.requirements` in force): every authorizer reads them on its next request.',
  'mfa.enabled': 'The identity activated a second factor (`data.factor_id`, `data.kind`: `totp`) and got new recovery codes.',
  'mfa.recovery_code_used': 'One of the identity’s recovery codes (`data.code`, its number) was spent in place of a second-factor code.',
  'mfa.disabled': 'The identity removed its second factor (`data.factor_id`), proving a fresh code; its recovery codes went with it.',
  'mfa.recovery_codes_regenerated': 'The identity replaced its recovery codes (proving a fresh code): the old ones no longer work.',
  'session.reauthenticated':
    'The session’s user proved a credential again (`data.method`: `pwd`, `otp` or `rc`): its `auth_time` is now, its `acr` (`data.acr`) aal2 after a second factor, and its refresh token rotated.',
  'service_account.created':
    'A service account was created (`data.name`; its login is `service:<name>`): an identity with no password, holding roles.',
  'api_key.created':
    'An API key was made for the service account (`data.key_id`, `data.name`, `data.scopes`, `data.expires_at`); never the key, which is shown once.',
  'api_key.revoked': 'The API key `data.key_id` was revoked: refused on its next request.',
  'api_key.rotated':
    'The API key `data.key_id` was replaced by `data.successor_id`, with the same name and scopes; the old one keeps working `data.overlap_hours` more.',
  'identity.linked':
    'A provider account (`data.provider`, `data.linked_id`) was linked to the identity: explicitly (`POST /auth/identities/{provider}/link`, `data.automatic` false) or by a sign-in whose verified address matched (`OAUTH_AUTO_LINK`, `data.automatic` true).',
  'identity.unlinked':
    'A provider account (`data.provider`, `data.linked_id`) was unlinked (`DELETE /auth/identities/{id}`): it no longer signs in.',
  'identity.suspended':
    'An administrator suspended the account (`npm run admin -- suspend`, `PUT /admin/identities/{id}/suspension`; `data.reason`, `data.sessions_ended`): no sign-in finishes, its API keys are refused, every session ended (each with its `session.ended`, reason `suspended`).',
  'identity.unsuspended':
    'An administrator lifted the suspension (`npm run admin -- unsuspend`, `DELETE /admin/identities/{id}/suspension`): the account can sign in again.',
}

/** AUDIT_EVENTS as the README's table. */
export function auditEventTable(): string {
  const rows = Object.entries(AUDIT_EVENTS).map(([type, description]) => `| \`${type}\` | ${description.replace(/\|/g, '\\|')} |`)
  return ['| Event | What it records |', '| --- | --- |', ...rows].join('\n')
}
