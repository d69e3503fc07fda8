/**
 * Property: whatever Authorization header, body, path parameter, query string and other headers a client sends to
 * an admin route — GET and POST /admin/permissions, GET and POST /admin/roles, PUT /admin/roles/{name}/permissions,
 * GET /admin/identities?login=, GET and PUT /admin/identities/{id}/roles, DELETE /admin/identities/{id}/sessions,
 * PUT and DELETE /admin/identities/{id}/suspension (these three as an administrator signed in with a second factor) —
 * the answer (our authorizer and Gateway Responses, then the handler) is a 200 or 201 `{data}` or a 4xx
 * `{error, code, reason}` matching docs/openapi.yaml, never a 5xx, never a stack trace or an internal detail.
 *
 * The cases run as an administrator (the built-in `admin` role, granted as `npm run admin` grants it), now and then
 * as a member without attune:admin (a 403). Each case gets sessions of its own for its tokens, ended after it.
 * The changes the cases make reach only this run's own role and users (tests/support/fuzz/admin.ts): a case
 * that takes the administrator's own roles away is undone before the next.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { handler as findIdentitiesHandler } from '../../../functions/admin-identities-find.js'
import { handler as identityRolesGetHandler } from '../../../functions/admin-identity-roles-get.js'
import { handler as identityRolesPutHandler } from '../../../functions/admin-identity-roles-put.js'
import { handler as sessionsEndHandler } from '../../../functions/admin-identity-sessions-end.js'
import { handler as suspendHandler } from '../../../functions/admin-identity-suspend.js'
import { handler as unsuspendHandler } from '../../../functions/admin-identity-unsuspend.js'
import { handler as createPermissionHandler } from '../../../functions/admin-permissions-create.js'
import { handler as listPermissionsHandler } from '../../../functions/admin-permissions-list.js'
import { handler as rolePermissionsHandler } from '../../../functions/admin-role-permissions.js'
import { handler as createRoleHandler } from '../../../functions/admin-roles-create.js'
import { handler as listRolesHandler } from '../../../functions/admin-roles-list.js'
import { getApp } from '../../../lib/app.js'
import { ADMIN_PERMISSION } from '../../../lib/authz/admin.js'
import { createRoleRepository } from '../../../lib/db/roles.js'
import { MANAGE_PERMISSION } from '../../../lib/keys/admin.js'
import { registerUser, verifiedUser } from '../../support/api.js'
import type { FindQuery, IdentityIdChoice } from '../../support/fuzz/admin.js'
import {
  ADMIN_ROLE,
  defineFuzzRole,
  FUZZ_ROLE,
  findQuery,
  grantList,
  identityIdChoice,
  makeAdministrator,
  permissionList,
  permissionName,
  roleName,
  rolePathName,
  sentNames,
} from '../../support/fuzz/admin.js'
import type { GeneratedBody } from '../../support/fuzz/bodies.js'
import { body } from '../../support/fuzz/bodies.js'
import type { FuzzUser } from '../../support/fuzz/case-context.js'
import { CaseContext, closeSessions, WITH_SECOND_FACTOR } from '../../support/fuzz/case-context.js'
import { checkAnswer, receivedJson, StatusTally } from '../../support/fuzz/check.js'
import { authorization, headers } from '../../support/fuzz/headers.js'
import type { GeneratedRequest, Route } from '../../support/fuzz/send.js'
import { send } from '../../support/fuzz/send.js'
import { fuzzSettings } from '../../support/fuzz/settings.js'
import { field } from '../../support/fuzz/values.js'

const settings = fuzzSettings(process.env)
const tallies = new Map<string, StatusTally>()

const route = (method: string, path: string, handler: Route['handler']): Route => ({
  method,
  path,
  documentedPath: path,
  handler,
  protected: true,
})

/** What fills the route's path parameter or query string, when it has one. */
type Target =
  | { kind: 'fixed' }
  | { kind: 'role'; name: string | undefined }
  | { kind: 'identity'; id: IdentityIdChoice }
  | { kind: 'query'; query: FindQuery | null }

interface AdminEndpoint {
  route: Route
  body: fc.Arbitrary<GeneratedBody>
  target: fc.Arbitrary<Target>
  /** The status of a request that succeeds. */
  success: 200 | 201
  /** The route needs a second factor: the administrator's cases sign in with one (aal2). */
  secondFactor?: true
}

const noBodyFields = {}
const fixed = fc.constant<Target>({ kind: 'fixed' })
const toIdentity = identityIdChoice.map((id): Target => ({ kind: 'identity', id }))

const ENDPOINTS: Record<string, AdminEndpoint> = {
  listPermissions: {
    route: route('GET', '/admin/permissions', listPermissionsHandler),
    body: body(noBodyFields),
    target: fixed,
    success: 200,
  },
  createPermission: {
    route: route('POST', '/admin/permissions', createPermissionHandler),
    body: body({
      name: field(permissionName, { plausible: 20 }),
      description: fc.option(field(fc.string({ maxLength: 40 })), { nil: undefined }),
    }),
    target: fixed,
    success: 201,
  },
  listRoles: { route: route('GET', '/admin/roles', listRolesHandler), body: body(noBodyFields), target: fixed, success: 200 },
  createRole: {
    route: route('POST', '/admin/roles', createRoleHandler),
    body: body({
      name: field(roleName, { plausible: 20 }),
      description: fc.option(field(fc.string({ maxLength: 40 })), { nil: undefined }),
      permissions: fc.option(field(permissionList, { plausible: 20 }), { nil: undefined }),
    }),
    target: fixed,
    success: 201,
  },
  rolePermissions: {
    route: route('PUT', '/admin/roles/{name}/permissions', rolePermissionsHandler),
    body: body({ permissions: field(permissionList, { plausible: 20 }) }),
    target: rolePathName.map((name): Target => ({ kind: 'role', name })),
    success: 200,
  },
  findIdentities: {
    route: route('GET', '/admin/identities', findIdentitiesHandler),
    body: body(noBodyFields),
    target: findQuery.map((query): Target => ({ kind: 'query', query })),
    success: 200,
  },
  identityRoles: {
    route: route('GET', '/admin/identities/{id}/roles', identityRolesGetHandler),
    body: body(noBodyFields),
    target: toIdentity,
    success: 200,
  },
  setIdentityRoles: {
    route: route('PUT', '/admin/identities/{id}/roles', identityRolesPutHandler),
    body: body({ roles: field(grantList, { plausible: 20 }) }),
    target: toIdentity,
    success: 200,
  },
  endSessions: {
    route: route('DELETE', '/admin/identities/{id}/sessions', sessionsEndHandler),
    body: body(noBodyFields),
    target: toIdentity,
    success: 200,
    secondFactor: true,
  },
  suspend: {
    route: route('PUT', '/admin/identities/{id}/suspension', suspendHandler),
    body: body({ reason: fc.option(field(fc.string({ maxLength: 220 }), { plausible: 20 }), { nil: undefined }) }),
    target: toIdentity,
    success: 200,
    secondFactor: true,
  },
  unsuspend: {
    route: route('DELETE', '/admin/identities/{id}/suspension', unsuspendHandler),
    body: body(noBodyFields),
    target: toIdentity,
    success: 200,
    secondFactor: true,
  },
}

/** Who sends the case: mostly the administrator, now and then a member without attune:admin. */
const caller = fc.oneof({ weight: 12, arbitrary: fc.constant('admin' as const) }, { weight: 1, arbitrary: fc.constant('member' as const) })

/** A path parameter as a client would put it in the URL (lone surrogates cannot be percent-encoded). */
const inPath = (value: string | undefined): string => encodeURIComponent((value ?? '').replace(/\p{Cs}/gu, '\uFFFD'))

describe('bad input on the admin routes', () => {
  let admin: FuzzUser
  let member: FuzzUser
  /** The identity the cases look up and change (with a verified email, to be found by it). */
  let subject: FuzzUser & { email: string }

  beforeAll(async () => {
    const [a, m, s] = await Promise.all([registerUser(), registerUser(), verifiedUser('fuzz-subject')])
    admin = { identityId: a.identityId, login: a.login, password: a.password }
    member = { identityId: m.identityId, login: m.login, password: m.password }
    subject = { identityId: s.identityId, login: s.login, password: s.password, email: s.email }
    await Promise.all([makeAdministrator(admin), defineFuzzRole()])
  })

  afterAll(() => {
    if (process.env['FUZZ_RUNS']) for (const [name, tally] of tallies) console.log(`fuzz ${name}: ${tally.total} cases — ${tally}`)
  })

  function identityId(choice: IdentityIdChoice): string | undefined {
    switch (choice.kind) {
      case 'subject':
        return `${choice.prefix}${subject.identityId}`
      case 'self':
        return String(admin.identityId)
      case 'unknown':
      case 'junk':
        return choice.id
      case 'absent':
        return undefined
    }
  }

  function query(generated: FindQuery | null): Record<string, string> | null {
    if (generated === null) return null
    const params: Record<string, string> = Object.fromEntries(generated.extra)
    const choice = generated.login
    if (choice === undefined) return params
    switch (choice.kind) {
      case 'subject':
        params['login'] =
          choice.spelling === 'upper' ? subject.login.toUpperCase() : choice.spelling === 'padded' ? ` ${subject.login}\t` : subject.login
        break
      case 'subject-email':
        params['login'] = choice.upper ? subject.email.toUpperCase() : subject.email
        break
      case 'self':
        params['login'] = admin.login
        break
      case 'unknown':
      case 'junk':
        params['login'] = choice.login
        break
    }
    return params
  }

  /** The route and request for a target: the concrete path, its parameter, its query string. */
  function aimed(documented: Route, target: Target, generated: GeneratedRequest): { target: Route; request: GeneratedRequest } {
    switch (target.kind) {
      case 'fixed':
        return { target: documented, request: generated }
      case 'role':
        return {
          target: { ...documented, path: `/admin/roles/${inPath(target.name)}/permissions` },
          request: { ...generated, pathParameters: target.name === undefined ? null : { name: target.name } },
        }
      case 'identity': {
        const id = identityId(target.id)
        return {
          target: { ...documented, path: documented.path.replace('{id}', inPath(id)) },
          request: { ...generated, pathParameters: id === undefined ? null : { id } },
        }
      }
      case 'query':
        return { target: documented, request: { ...generated, query: query(target.query) } }
    }
  }

  for (const [name, endpoint] of Object.entries(ENDPOINTS)) {
    const documented = endpoint.route
    it(
      `${documented.method} ${documented.path} answers any generated Authorization, body, parameters and headers with a ${endpoint.success} {data} or a 4xx {error, code, reason}, never a 5xx or internals`,
      async () => {
        const tally = new StatusTally()
        tallies.set(name, tally)
        const request = fc.record({ caller, headers, body: endpoint.body, auth: authorization, target: endpoint.target })
        await fc.assert(
          fc.asyncProperty(request, async ({ caller: who, headers: h, body: b, auth, target }) => {
            const ctx = new CaseContext(who === 'admin' ? admin : member, undefined, endpoint.secondFactor ? WITH_SECOND_FACTOR : undefined)
            try {
              const aim = aimed(documented, target, { headers: h, body: b, auth })
              const answer = await send(aim.target, aim.request, ctx)
              const echoes = answer.status === 400 ? sentNames(parsedOrNull(answer.sent)) : []
              const { status, body: answered } = checkAnswer(aim.target, answer, echoes)
              tally.add(status, answered)
            } finally {
              await Promise.all([closeSessions(admin), closeSessions(member)])
              // A case that changed the administrator's own roles may have taken `admin` away: give it back.
              if (target.kind === 'identity' && target.id.kind === 'self' && name === 'setIdentityRoles') await makeAdministrator(admin)
            }
          }),
          { numRuns: settings.numRuns, ...(settings.seed === undefined ? {} : { seed: settings.seed }) },
        )
        expect(tally.total).toBeGreaterThanOrEqual(settings.numRuns)
        // Some valid requests get through, so the admin rules and their statements run too.
        expect(tally.count(endpoint.success)).toBeGreaterThan(0)
      },
      settings.timeout,
    )
  }

  it('leaves the built-in admin role with its permissions alone, the administrator one, and the member without a role', async () => {
    const roles = createRoleRepository(getApp().sql)
    expect((await roles.listRoles()).find((role) => role.name === ADMIN_ROLE)).toEqual({
      name: ADMIN_ROLE,
      description: expect.any(String),
      permissions: [ADMIN_PERMISSION, MANAGE_PERMISSION],
    })
    expect((await roles.grantsOf(admin.identityId)).permissions).toContain(ADMIN_PERMISSION)
    expect(await roles.grantsOf(member.identityId)).toMatchObject({ roles: [], permissions: [] })
    // The cases changed this run's role at most, and it still exists.
    expect((await roles.listRoles()).map((role) => role.name)).toContain(FUZZ_ROLE)
  })
})

/** The request body as JSON, or null when it was not (an error then names nothing the client sent). */
function parsedOrNull(sent: Parameters<typeof receivedJson>[0]): unknown {
  try {
    return receivedJson(sent)
  } catch {
    return null
  }
}
