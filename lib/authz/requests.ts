/** The bodies, parameters and query strings of the admin routes (docs/openapi.yaml), validated with valibot. */
import * as v from 'valibot'
import { CONTROL_CHARACTERS, presentedLogin } from '../auth/requests.js'
import type { PathParameters } from '../http/path-parameters.js'
import { identityParameter, pathParameter } from '../http/path-parameters.js'

export const PERMISSION_NAME = /^[a-z][a-z0-9_-]{0,62}:[a-z*][a-z0-9_*-]{0,62}$/
export const ROLE_NAME = /^[a-z][a-z0-9_-]{0,62}$/

const description = v.optional(
  v.pipe(
    v.string('description must be a string'),
    v.trim(),
    v.maxLength(256, 'description must be at most 256 characters'),
    v.check((s) => !CONTROL_CHARACTERS.test(s), 'description must not contain control characters'),
  ),
  '',
)
/** RFC 3339 with a zone, e.g. `2027-01-01T00:00:00Z`: one form, no other. */
const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/

/** The instant `text` names, when it is RFC 3339 with a real calendar date in years 1970-9999 (else undefined). */
export function parseInstant(text: string): Date | undefined {
  const [, year, month, day] = (INSTANT.exec(text) ?? []).map(Number)
  if (year === undefined || month === undefined || day === undefined || year < 1970) return undefined
  const date = new Date(text)
  // Date.UTC rolls 2027-02-31 over into March: a real date gives back its own day.
  const calendar = new Date(Date.UTC(year, month - 1, day))
  if (Number.isNaN(date.getTime()) || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined
  return date
}

const permissionName = (field: string) =>
  v.pipe(
    v.string(`${field} must be a string`),
    v.regex(PERMISSION_NAME, `${field} must be resource:action in lower case, e.g. orders:read`),
  )
const roleName = (field: string) =>
  v.pipe(v.string(`${field} must be a string`), v.regex(ROLE_NAME, `${field} must be lower-case letters, digits, - and _`))
const permissionList = v.pipe(
  v.array(permissionName('permissions[]'), 'permissions must be an array'),
  v.maxLength(200, 'permissions must have at most 200 entries'),
  v.transform((names) => [...new Set(names)].sort()),
)

export const CreatePermissionBody = v.object({ name: permissionName('name'), description })
export const CreateRoleBody = v.object({ name: roleName('name'), description, permissions: v.optional(permissionList, []) })
export const RolePermissionsBody = v.object({ permissions: permissionList })
export const IdentityRolesBody = v.object({
  roles: v.pipe(
    v.array(
      v.object({
        role: roleName('roles[].role'),
        expires_at: v.optional(
          v.nullable(
            v.pipe(
              v.string('roles[].expires_at must be a string'),
              v.rawTransform(({ dataset, addIssue, NEVER }) => {
                const date = parseInstant(dataset.value)
                if (date) return date
                addIssue({ message: 'roles[].expires_at must be an RFC 3339 time with a zone, e.g. 2027-01-01T00:00:00Z' })
                return NEVER
              }),
            ),
          ),
          null,
        ),
      }),
      'roles must be an array',
    ),
    v.maxLength(100, 'roles must have at most 100 entries'),
    v.check((roles) => new Set(roles.map((r) => r.role)).size === roles.length, 'roles must not name a role twice'),
  ),
})
export const IdentitySearchQuery = v.object({ login: presentedLogin })

export type CreatePermissionInput = v.InferOutput<typeof CreatePermissionBody>
export type CreateRoleInput = v.InferOutput<typeof CreateRoleBody>
export type RolePermissionsInput = v.InferOutput<typeof RolePermissionsBody>
/** PUT /admin/identities/{id}/suspension: why, for the audit log (at most 200 characters, as the table keeps). */
export const SuspensionBody = v.object({
  reason: v.optional(
    v.nullable(
      v.pipe(
        v.string('reason must be a string'),
        v.trim(),
        v.maxLength(200, 'reason must be at most 200 characters'),
        v.check((s) => !CONTROL_CHARACTERS.test(s), 'reason must not contain control characters'),
      ),
    ),
    null,
  ),
})

export type IdentityRolesInput = v.InferOutput<typeof IdentityRolesBody>
export type SuspensionInput = v.InferOutput<typeof SuspensionBody>
export type IdentitySearchInput = v.InferOutput<typeof IdentitySearchQuery>

/** The `{name}` of /admin/roles/{name}/permissions: a role name, or a 404 (a name that cannot exist is not found). */
export const roleNameParameter = (parameters: PathParameters): string => pathParameter(parameters, 'name', ROLE_NAME, 'role_not_found')

/** The `{id}` of /admin/identities/{id}/roles: an identity id, or a 404. */
export const identityIdParameter = (parameters: PathParameters): number => identityParameter(parameters, 'id', 'identity_not_found')
