/**
 * The admin routes' generated inputs (tests/integration/property/admin-endpoints.test.ts): permission and role
 * names (this run's own, the built-in ones, new ones, near misses, lengths at the bounds, junk), permission lists,
 * grants with expiries in every form valibot's isoTimestamp takes and some it refuses, identity ids, the login
 * query; and the administrator the cases run as.
 *
 * Test files run in parallel on one database, so no generated change may land on what another file owns: a role a
 * change can reach is this run's own (FUZZ_ROLE, or one a case created) or one that cannot exist, an identity a
 * change can reach is one of this run's users (junk that would be a real id is left out), and the built-in
 * `admin` role is named only where it is granted or created again, never where its permissions are replaced.
 */
import { IDENTITY_ID } from '@attune-auth/client/ids'
import fc from 'fast-check'
import { runAdmin } from '../../../infra/admin.js'
import { getApp } from '../../../lib/app.js'
import { ADMIN_PERMISSION } from '../../../lib/authz/admin.js'
import { ROLE_NAME } from '../../../lib/authz/requests.js'
import type { FuzzUser } from './case-context.js'
import { plausibleLogin, RUN_TAG, weirdString, wrongType } from './values.js'

/** The built-in role that carries attune:admin (infra/migrations/00012_roles.sql). */
export const ADMIN_ROLE = 'admin'
/** This run's own permission and role, defined before the cases: the only role whose permissions the cases replace. */
export const FUZZ_PERMISSION = `fuzz-${RUN_TAG}:read`
export const FUZZ_ROLE = `fuzz-${RUN_TAG}`

/** Makes `user` an administrator: the built-in `admin` role (attune:admin), granted as `npm run admin` grants it. */
export async function makeAdministrator(user: FuzzUser): Promise<void> {
  await runAdmin(['grant-role', user.login, ADMIN_ROLE], getApp().sql)
}

/** Defines FUZZ_PERMISSION and FUZZ_ROLE (holding it), as `npm run admin` does. */
export async function defineFuzzRole(): Promise<void> {
  await runAdmin(['create-permission', FUZZ_PERMISSION, 'Defined by the admin fuzz run'], getApp().sql)
  await runAdmin(['create-role', FUZZ_ROLE, FUZZ_PERMISSION], getApp().sql)
}

/** A name of this run's own: `letter` repeated, then the run's tag, `length` characters in all. */
const tagged = (letter: string, length: number): string => letter.repeat(length - RUN_TAG.length) + RUN_TAG

// --- Permissions -----------------------------------------------------------------------------------------------

const resource = fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/)
const action = fc.stringMatching(/^[a-z*][a-z0-9_*-]{0,20}$/)

/** A permission that does not exist yet (the run's tag in its resource). */
const newPermission = fc.tuple(resource, action).map(([r, a]) => `${r}-${RUN_TAG}:${a}`)

const PERMISSION_NEAR_MISSES = [
  'Orders:read',
  'orders:Read',
  'orders',
  'orders:',
  ':read',
  'orders:read:all',
  '*:read',
  '1orders:read',
  ' orders:read',
  'orders:read ',
  'ordérs:read',
  'orders:re ad',
  'orders:read\u0000',
  'orders\u200B:read',
]

/** The `name` of POST /admin/permissions: mostly new, sometimes taken (409), at the length bounds, or a near miss. */
export const permissionName: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: newPermission },
  { weight: 2, arbitrary: fc.constantFrom(ADMIN_PERMISSION, FUZZ_PERMISSION) },
  {
    weight: 2,
    // resource or action of 63 characters (the most) or 64 (one too many)
    arbitrary: fc
      .tuple(fc.constantFrom(63, 64), fc.boolean())
      .map(([n, inAction]) => (inAction ? `p-${RUN_TAG}:${'a'.repeat(n)}` : `${tagged('p', n)}:read`)),
  },
  { weight: 2, arbitrary: fc.constantFrom(...PERMISSION_NEAR_MISSES) },
)

/** One entry of a permission list: mostly permissions that exist, sometimes one that does not, junk or a wrong type. */
const listedPermission: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(FUZZ_PERMISSION, ADMIN_PERMISSION) },
  { weight: 2, arbitrary: newPermission },
  { weight: 1, arbitrary: fc.constantFrom(...PERMISSION_NEAR_MISSES) },
  { weight: 1, arbitrary: weirdString },
  { weight: 1, arbitrary: wrongType },
)

/** The `permissions` of POST /admin/roles and PUT /admin/roles/{name}/permissions. */
export const permissionList: fc.Arbitrary<unknown[]> = fc.oneof(
  { weight: 10, arbitrary: fc.array(fc.constantFrom(FUZZ_PERMISSION, ADMIN_PERMISSION), { maxLength: 3 }) },
  { weight: 4, arbitrary: fc.array(listedPermission, { maxLength: 5 }) },
  // at the 200-entry bound and one past it (duplicates count before they are merged)
  { weight: 1, arbitrary: fc.constantFrom(200, 201).map((n) => Array.from({ length: n }, () => FUZZ_PERMISSION)) },
  // many permissions that do not exist: the 400 names them
  {
    weight: 1,
    arbitrary: fc.constantFrom(5, 200).map((n) => Array.from({ length: n }, (_, i) => `none${i}-${RUN_TAG}:read`)),
  },
)

// --- Roles -----------------------------------------------------------------------------------------------------

/** A role that does not exist yet (the run's tag in its name). */
const newRole = fc.stringMatching(/^[a-z][a-z0-9_-]{0,30}$/).map((s) => `${s}-${RUN_TAG}`)

const ROLE_NEAR_MISSES = [
  'Clerk',
  'ADMIN',
  'admin ',
  ' admin',
  '1clerk',
  '-clerk',
  'clerk:read',
  'clérk',
  'cl erk',
  'admin\u0000',
  'ad\u200Bmin',
]

/** The `name` of POST /admin/roles: mostly new, sometimes taken (409), at the length bounds, or a near miss. */
export const roleName: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: newRole },
  { weight: 2, arbitrary: fc.constantFrom(ADMIN_ROLE, FUZZ_ROLE) },
  { weight: 1, arbitrary: fc.constantFrom(63, 64).map((n) => tagged('r', n)) },
  { weight: 2, arbitrary: fc.constantFrom(...ROLE_NEAR_MISSES) },
)

/**
 * The `{name}` of PUT /admin/roles/{name}/permissions (undefined: no path parameter): this run's role, one that
 * does not exist, a near miss, or junk that is no role name (so never a role of another test file, nor `admin`).
 */
export const rolePathName: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(FUZZ_ROLE) },
  { weight: 2, arbitrary: newRole },
  {
    weight: 1,
    arbitrary: fc.constantFrom(FUZZ_ROLE.toUpperCase(), ` ${FUZZ_ROLE}`, `${FUZZ_ROLE} `, `${FUZZ_ROLE}\u0000`, ...ROLE_NEAR_MISSES),
  },
  { weight: 2, arbitrary: weirdString.filter((s) => !ROLE_NAME.test(s)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
)

// --- Grants ----------------------------------------------------------------------------------------------------

const two = (min: number, max: number): fc.Arbitrary<string> => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'))

/** A time in the grammar valibot's isoTimestamp takes: `T` or a space, a fraction of 1 to 9 digits, every zone form. */
const isoTimestampLike: fc.Arbitrary<string> = fc
  .record({
    year: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 2000, max: 2100 }) },
      { weight: 1, arbitrary: fc.constantFrom(0, 1, 1969, 1970, 9999) },
    ),
    month: two(1, 12),
    day: fc.oneof({ weight: 4, arbitrary: two(1, 28) }, { weight: 1, arbitrary: two(29, 31) }),
    hour: two(0, 23),
    minute: two(0, 59),
    second: two(0, 59),
    fraction: fc.option(fc.stringMatching(/^\.[0-9]{1,9}$/), { nil: '' }),
    separator: fc.constantFrom('T', ' '),
    zone: fc.oneof(
      { weight: 3, arbitrary: fc.constant('Z') },
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom('', ' '), fc.constantFrom('+', '-'), two(0, 23), fc.constantFrom(':', '', 'none'), two(0, 59))
          .map(([space, sign, hours, colon, minutes]) => `${space}${sign}${hours}${colon === 'none' ? '' : `${colon}${minutes}`}`),
      },
    ),
  })
  .map((t) => `${String(t.year).padStart(4, '0')}-${t.month}-${t.day}${t.separator}${t.hour}:${t.minute}:${t.second}${t.fraction}${t.zone}`)

const TIME_NEAR_MISSES = [
  '2027-01-01',
  '2027-01-01T00:00:00',
  '2027-01-01T00:00Z',
  '2027-13-01T00:00:00Z',
  '2027-00-10T00:00:00Z',
  '2027-01-01T24:00:00Z',
  '2027-01-01T00:00:60Z',
  '2027-01-01t00:00:00z',
  '+002027-01-01T00:00:00Z',
  '27-01-01T00:00:00Z',
  'tomorrow',
  'Fri, 01 Jan 2027 00:00:00 GMT',
  '1798761600',
]

/** A grant's `expires_at`: absent, null, a real time (past or future), one in any isoTimestamp form, a near miss or junk. */
const expiresAt: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constant(null) },
  {
    weight: 4,
    arbitrary: fc
      .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString()),
  },
  { weight: 4, arbitrary: isoTimestampLike },
  { weight: 1, arbitrary: fc.constantFrom(...TIME_NEAR_MISSES) },
  { weight: 1, arbitrary: weirdString },
  { weight: 1, arbitrary: wrongType },
)

/** A grant's `role`: mostly one that exists (this run's or `admin`), sometimes one that does not, junk or absent. */
const grantedRole: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(FUZZ_ROLE, ADMIN_ROLE) },
  { weight: 2, arbitrary: newRole },
  { weight: 1, arbitrary: fc.constantFrom(...ROLE_NEAR_MISSES) },
  { weight: 1, arbitrary: weirdString },
  { weight: 1, arbitrary: wrongType },
  { weight: 1, arbitrary: fc.constant(undefined) },
)

const grant = fc.record({ role: grantedRole, expires_at: expiresAt })

/** The `roles` of PUT /admin/identities/{id}/roles. */
export const grantList: fc.Arbitrary<unknown[]> = fc.oneof(
  // each role once (the usual request)
  { weight: 10, arbitrary: fc.uniqueArray(grant, { maxLength: 3, selector: (g) => g.role }) },
  // a role twice, grants that are not objects
  { weight: 2, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: grant }, { weight: 1, arbitrary: wrongType }), { maxLength: 4 }) },
  // at the 100-entry bound and one past it, none of them a role
  { weight: 1, arbitrary: fc.constantFrom(100, 101).map((n) => Array.from({ length: n }, (_, i) => ({ role: `none${i}-${RUN_TAG}` }))) },
)

// --- Identities ------------------------------------------------------------------------------------------------

/** The `{id}` of /admin/identities/{id}/roles: this run's users, ids no identity has, junk, or none. */
export type IdentityIdChoice =
  /** The user the cases look at and change. */
  | { kind: 'subject'; prefix: '' | '0' | '+' | ' ' | '-' }
  /** The administrator making the request. */
  | { kind: 'self' }
  | { kind: 'unknown'; id: string }
  | { kind: 'junk'; id: string }
  | { kind: 'absent' }

export const identityIdChoice: fc.Arbitrary<IdentityIdChoice> = fc.oneof(
  { weight: 8, arbitrary: fc.constant<IdentityIdChoice>({ kind: 'subject', prefix: '' }) },
  { weight: 1, arbitrary: fc.constantFrom('0', '+', ' ', '-').map((prefix): IdentityIdChoice => ({ kind: 'subject', prefix })) },
  { weight: 2, arbitrary: fc.constant<IdentityIdChoice>({ kind: 'self' }) },
  {
    weight: 2,
    // far past any id the test database reaches, up to the 16 digits the pattern allows (past 2^53 too)
    arbitrary: fc.bigInt({ min: 10n ** 12n, max: 10n ** 16n - 1n }).map((id): IdentityIdChoice => ({ kind: 'unknown', id: String(id) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('0', '00', '-1', '1.0', '1e3', '0x10', '١', '１', '10000000000000000', '9223372036854775808', '18446744073709551616')
      .map((id): IdentityIdChoice => ({ kind: 'junk', id })),
  },
  // never a real id: those would reach another test file's identities
  { weight: 2, arbitrary: weirdString.filter((s) => !IDENTITY_ID.test(s)).map((id): IdentityIdChoice => ({ kind: 'junk', id })) },
  { weight: 1, arbitrary: fc.constant<IdentityIdChoice>({ kind: 'absent' }) },
)

/** The `login` of GET /admin/identities: this run's users by login or email, any spelling, a stranger, junk. */
export type LoginChoice =
  | { kind: 'subject'; spelling: 'as-is' | 'upper' | 'padded' }
  | { kind: 'subject-email'; upper: boolean }
  | { kind: 'self' }
  | { kind: 'unknown'; login: string }
  | { kind: 'junk'; login: string }

export interface FindQuery {
  /** Absent: no `login` parameter. */
  login: LoginChoice | undefined
  /** Other parameters (ignored). */
  extra: Array<[string, string]>
}

const loginChoice: fc.Arbitrary<LoginChoice> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom<LoginChoice>(
      { kind: 'subject', spelling: 'as-is' },
      { kind: 'subject', spelling: 'upper' },
      { kind: 'subject', spelling: 'padded' },
      { kind: 'subject-email', upper: false },
      { kind: 'subject-email', upper: true },
      { kind: 'self' },
    ),
  },
  { weight: 2, arbitrary: plausibleLogin.map((login): LoginChoice => ({ kind: 'unknown', login })) },
  { weight: 3, arbitrary: weirdString.map((login): LoginChoice => ({ kind: 'junk', login })) },
)

/** GET /admin/identities' query string (null: none at all). */
export const findQuery: fc.Arbitrary<FindQuery | null> = fc.oneof(
  { weight: 1, arbitrary: fc.constant(null) },
  {
    weight: 10,
    arbitrary: fc.record({
      login: fc.oneof({ weight: 12, arbitrary: loginChoice }, { weight: 1, arbitrary: fc.constant(undefined) }),
      extra: fc.oneof(
        { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
        {
          weight: 1,
          arbitrary: fc.array(
            fc.tuple(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('Login', 'login[]', '__proto__')), weirdString),
            {
              maxLength: 2,
            },
          ),
        },
      ),
    }),
  },
)

/** The names a request body sent in `permissions` or `roles[].role`: a 400 may name them back (the client's own words). */
export function sentNames(received: unknown): string[] {
  if (typeof received !== 'object' || received === null) return []
  const { permissions, roles } = received as { permissions?: unknown; roles?: unknown }
  const names: unknown[] = [
    ...(Array.isArray(permissions) ? permissions : []),
    ...(Array.isArray(roles)
      ? roles.map((g: unknown) => (typeof g === 'object' && g !== null ? (g as { role?: unknown }).role : undefined))
      : []),
  ]
  return names.filter((name): name is string => typeof name === 'string')
}
