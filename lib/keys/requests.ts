/** The bodies and parameters of the service-account admin routes (docs/openapi.yaml), validated with valibot. */
import * as v from 'valibot'
import { PERMISSION_NAME } from '../authz/requests.js'
import type { PathParameters } from '../http/path-parameters.js'
import { identityParameter, uuidParameter } from '../http/path-parameters.js'
import { API_KEY_DEFAULT_DAYS, API_KEY_MAX_DAYS } from './api-key.js'

/** A service account's name: its login is `service:<name>`. */
export const SERVICE_ACCOUNT_NAME = /^[a-z][a-z0-9-]{2,62}$/

export const CreateServiceAccountBody = v.object({
  name: v.pipe(
    v.string('name must be a string'),
    v.regex(SERVICE_ACCOUNT_NAME, 'name must be 3-63 lower-case letters, digits and -, a letter first'),
  ),
})

export const CreateKeyBody = v.object({
  name: v.pipe(
    v.string('name must be a string'),
    v.trim(),
    v.minLength(1, 'name is required'),
    v.maxLength(64, 'name must be at most 64 characters'),
  ),
  scopes: v.pipe(
    v.array(
      v.pipe(v.string('scopes[] must be strings'), v.regex(PERMISSION_NAME, 'scopes[] must be resource:action')),
      'scopes must be an array',
    ),
    v.maxLength(100, 'scopes must have at most 100 entries'),
    v.transform((scopes) => [...new Set(scopes)].sort()),
  ),
  expires_in_days: v.optional(
    v.pipe(
      v.number('expires_in_days must be a number'),
      v.integer('expires_in_days must be a whole number'),
      v.minValue(1, 'expires_in_days must be at least 1'),
      v.maxValue(API_KEY_MAX_DAYS, `expires_in_days must be at most ${API_KEY_MAX_DAYS}`),
    ),
    API_KEY_DEFAULT_DAYS,
  ),
})

export type CreateServiceAccountInput = v.InferOutput<typeof CreateServiceAccountBody>
export type CreateKeyInput = v.InferOutput<typeof CreateKeyBody>

/** The `{id}` of /admin/service-accounts/{id}/...: an identity id, or a 404. */
export const serviceAccountParameter = (parameters: PathParameters): number =>
  identityParameter(parameters, 'id', 'service_account_not_found')

/** The `{keyId}` of .../keys/{keyId}: a key id (any case), or a 404. */
export const keyIdParameter = (parameters: PathParameters): string => uuidParameter(parameters, 'keyId', 'api_key_not_found')
