/**
 * @attune-auth/client: what a handler behind Attune Auth's Lambda authorizer needs. `requireAuth` reads the
 * caller from the event, `ApiError` and the rest of the error contract answer like Attune Auth does, and the
 * id patterns check what the authorizer hands over. The subpaths (`@attune-auth/client/errors`, `/ids`,
 * `/require-auth`, and `/bearer-reasons` for the bearer refusals' messages alone) hold the same modules, for
 * importing only one of them.
 */
export type { ApiErrorOptions, BearerRefusal, ErrorBody, ErrorCode, Reason } from './errors.js'
export {
  ApiError,
  BEARER_CHALLENGE,
  BEARER_REASONS,
  bearerRefused,
  ERROR_STATUS,
  INSUFFICIENT_USER_AUTHENTICATION,
  invalidField,
  PERMISSION_MISSING,
  REASONS,
  stepUpChallenge,
  stepUpRequired,
} from './errors.js'
export { IDENTITY_ID, UUID } from './ids.js'
export type { AuthenticatedUser } from './require-auth.js'
export { requireAssurance, requireAuth, requirePermission } from './require-auth.js'
