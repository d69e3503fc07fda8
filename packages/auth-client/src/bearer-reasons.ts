/**
 * REASONS' first entries, in a module of their own so that a bundle that needs only these messages (the
 * authorizer's) carries only these: errors.ts builds REASONS from them.
 */
import type { ErrorCode } from './errors.js'

/**
 * The refusals of a bearer credential, REASONS' first four.
 */
export const BEARER_REASONS = {
  token_missing: { code: 'UNAUTHORIZED', message: 'Missing authentication token' },
  token_invalid: { code: 'UNAUTHORIZED', message: 'Invalid authentication token' },
  token_expired: { code: 'UNAUTHORIZED', message: 'Authentication token expired' },
  session_ended: { code: 'UNAUTHORIZED', message: 'Session has ended' },
} as const satisfies Record<string, { code: ErrorCode; message: string }>

/** REASONS' `permission_missing`: what a route requirement or `requirePermission` refuses. */
export const PERMISSION_MISSING = { code: 'FORBIDDEN', message: 'You do not have the permission this needs' } as const satisfies {
  code: ErrorCode
  message: string
}

/**
 * REASONS' `insufficient_user_authentication`: a route requirement's `min_acr` / `max_age` the caller's sign-in
 * does not meet, refused by the authorizer (a 403 there: see README "Route requirements"). In a handler,
 * `requireAssurance` answers RFC 9470's own 401 `step_up_required` instead.
 */
export const INSUFFICIENT_USER_AUTHENTICATION = {
  code: 'FORBIDDEN',
  message: 'This route needs a stronger or more recent sign-in: reauthenticate, with a second factor if asked',
} as const satisfies { code: ErrorCode; message: string }
