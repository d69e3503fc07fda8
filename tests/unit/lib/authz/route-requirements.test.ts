import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { policyAllows } from '../../../../infra/local/offline-authorizer.js'
import { toPolicy } from '../../../../lib/authorizer/decision.js'
import { parseRouteRequirements } from '../../../../lib/authz/route-requirement-declarations.js'
import { parseExecuteApiArn, patternMatches, routePattern, routeVerdict } from '../../../../lib/authz/route-requirements.js'
import type { RouteRequirement } from '../../../../lib/db/route-requirements.js'

const requirement = (method: string, resource: string, permission: string, mode: 'enforce' | 'report' = 'enforce'): RouteRequirement => ({
  apiId: 'a1b2c3d4e5',
  method,
  resource,
  permission,
  minAcr: null,
  maxAge: null,
  mode,
})

/** A row asking only how the caller signed in. */
const signInRequirement = (
  method: string,
  resource: string,
  { minAcr = null, maxAge = null }: Partial<Pick<RouteRequirement, 'minAcr' | 'maxAge'>>,
  mode: 'enforce' | 'report' = 'enforce',
): RouteRequirement => ({ apiId: 'a1b2c3d4e5', method, resource, permission: null, minAcr, maxAge, mode })

const NOW = 1_800_000_000
/** A caller holding `permissions`, signed in with a password just now. */
const caller = (permissions: string[], assurance: { acr?: 'aal1' | 'aal2'; authTime?: number } = {}) => ({
  permissions,
  acr: assurance.acr ?? 'aal1',
  authTime: assurance.authTime ?? NOW,
})
const SIGNED_IN_FINE = { enforce: null, report: null }

describe('route patterns', () => {
  it('splits an execute-api ARN into the API, its stage and the route', () => {
    expect(parseExecuteApiArn('arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/orders/42')).toEqual({
      api: 'arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5',
      apiId: 'a1b2c3d4e5',
      stage: 'prod',
      route: 'GET/orders/42',
    })
    expect(parseExecuteApiArn('arn:aws:execute-api:us-east-1:123456789012:ordershttp/$default/GET/v2/orders')?.route).toBe('GET/v2/orders')
    expect(parseExecuteApiArn('arn:aws:lambda:us-east-1:123456789012:function:x')).toBeUndefined()
  })

  it('turns path parameters and ANY into IAM wildcards, which match any characters as IAM does', () => {
    expect(routePattern(requirement('GET', '/orders/{id}', 'orders:read'))).toBe('GET/orders/*')
    expect(routePattern(requirement('*', '/files/{proxy+}', 'files:read'))).toBe('*/files/*')
    expect(routePattern(requirement('GET', '/', 'home:read'))).toBe('GET/')
    expect(patternMatches('GET/orders/*', 'GET/orders/42')).toBe(true)
    expect(patternMatches('GET/orders/*', 'GET/orders/42/items')).toBe(true)
    expect(patternMatches('GET/orders/*', 'GET/orders')).toBe(false)
    expect(patternMatches('GET/orders', 'GET/orders2')).toBe(false)
    expect(patternMatches('*/files/*', 'DELETE/files/a.txt')).toBe(true)
    // Regular-expression characters in a path are literal.
    expect(patternMatches('GET/v1.0/x', 'GET/v1x0/x')).toBe(false)
  })
})

describe('routeVerdict', () => {
  const requirements = [
    requirement('GET', '/orders', 'orders:read'),
    requirement('GET', '/orders/{id}', 'orders:read'),
    requirement('POST', '/orders', 'orders:write'),
    requirement('POST', '/orders', 'orders:audit'),
    requirement('DELETE', '/orders/{id}', 'orders:cancel', 'report'),
  ]

  it('denies every route with an enforce requirement the caller lacks, and names what this route misses', () => {
    expect(routeVerdict(requirements, caller(['orders:read', 'orders:write']), 'POST/orders', NOW)).toEqual({
      denied: ['POST/orders'],
      missing: { enforce: ['orders:audit'], report: [] },
      signIn: SIGNED_IN_FINE,
      refusal: { reason: 'permission_missing' },
    })
    expect(routeVerdict(requirements, caller([]), 'GET/orders/7', NOW)).toEqual({
      denied: ['GET/orders', 'GET/orders/*', 'POST/orders'],
      missing: { enforce: ['orders:read'], report: [] },
      signIn: SIGNED_IN_FINE,
      refusal: { reason: 'permission_missing' },
    })
  })

  it('never denies a report requirement, and reports it on its route only', () => {
    const verdict = routeVerdict(requirements, caller(['orders:read', 'orders:write', 'orders:audit']), 'DELETE/orders/7', NOW)
    expect(verdict).toEqual({ denied: [], missing: { enforce: [], report: ['orders:cancel'] }, signIn: SIGNED_IN_FINE, refusal: null })
    expect(routeVerdict(requirements, caller(['orders:read', 'orders:write', 'orders:audit']), 'GET/orders', NOW).missing.report).toEqual(
      [],
    )
  })
})

describe('routeVerdict on how the caller signed in (min_acr, max_age)', () => {
  const requirements = [
    requirement('GET', '/payments', 'payments:read'),
    signInRequirement('POST', '/payments', { minAcr: 'aal2' }),
    signInRequirement('POST', '/payments', { maxAge: 300 }),
    { ...requirement('POST', '/payments', 'payments:write'), maxAge: 600 },
    signInRequirement('DELETE', '/payments/{id}', { minAcr: 'aal2', maxAge: 60 }, 'report'),
  ]
  const everything = ['payments:read', 'payments:write']

  it('lets a fresh sign-in with a second factor through', () => {
    const verdict = routeVerdict(requirements, caller(everything, { acr: 'aal2', authTime: NOW - 300 }), 'POST/payments', NOW)
    expect(verdict).toEqual({ denied: [], missing: { enforce: [], report: [] }, signIn: SIGNED_IN_FINE, refusal: null })
  })

  it('refuses a password-only sign-in, asking for the strictest of the route’s rows', () => {
    const verdict = routeVerdict(requirements, caller(everything, { acr: 'aal1' }), 'POST/payments', NOW)
    expect(verdict.denied).toEqual(['POST/payments'])
    expect(verdict.signIn.enforce).toEqual({ acr: 'aal2', maxAge: 300 })
    expect(verdict.refusal).toEqual({ reason: 'insufficient_user_authentication', acr: 'aal2', maxAge: 300 })
  })

  it('refuses a sign-in one second older than max_age, and not one exactly max_age old', () => {
    const old = routeVerdict(requirements, caller(everything, { acr: 'aal2', authTime: NOW - 301 }), 'POST/payments', NOW)
    expect(old.refusal).toEqual({ reason: 'insufficient_user_authentication', acr: 'aal2', maxAge: 300 })
    const justInTime = routeVerdict(requirements, caller(everything, { acr: 'aal2', authTime: NOW - 300 }), 'POST/payments', NOW)
    expect(justInTime.refusal).toBeNull()
  })

  it('names a missing permission before the sign-in: a new sign-in would not help', () => {
    const verdict = routeVerdict(requirements, caller([], { acr: 'aal1' }), 'POST/payments', NOW)
    expect(verdict.missing.enforce).toEqual(['payments:write'])
    expect(verdict.signIn.enforce).toEqual({ acr: 'aal2', maxAge: 300 })
    expect(verdict.refusal).toEqual({ reason: 'permission_missing' })
  })

  it('refuses an API key (no sign-in: aal1, auth_time 0) any route asking for a sign-in', () => {
    const verdict = routeVerdict(
      [signInRequirement('*', '/reports', { maxAge: 31_536_000 })],
      caller([], { acr: 'aal1', authTime: 0 }),
      'GET/reports',
      NOW,
    )
    expect(verdict.denied).toEqual(['*/reports'])
    expect(verdict.refusal).toEqual({ reason: 'insufficient_user_authentication', acr: null, maxAge: 31_536_000 })
  })

  it('accepts aal2 where aal1 is asked, and max_age 0 only in the second of the sign-in', () => {
    const aal1 = [signInRequirement('GET', '/a', { minAcr: 'aal1' })]
    expect(routeVerdict(aal1, caller([], { acr: 'aal2' }), 'GET/a', NOW).refusal).toBeNull()
    const now = [signInRequirement('GET', '/a', { maxAge: 0 })]
    expect(routeVerdict(now, caller([], { authTime: NOW }), 'GET/a', NOW).refusal).toBeNull()
    expect(routeVerdict(now, caller([], { authTime: NOW - 1 }), 'GET/a', NOW).denied).toEqual(['GET/a'])
  })

  it('denies the other routes too, so a decision cached for one route is right on all, and says why', () => {
    // Called on GET /payments (allowed): the policy still denies POST, and the context names its refusal.
    const verdict = routeVerdict(requirements, caller(everything, { acr: 'aal1' }), 'GET/payments', NOW)
    expect(verdict.denied).toEqual(['POST/payments'])
    expect(verdict.signIn).toEqual(SIGNED_IN_FINE)
    expect(verdict.refusal).toEqual({ reason: 'insufficient_user_authentication', acr: 'aal2', maxAge: 300 })
    // A missing permission elsewhere wins over a sign-in elsewhere.
    expect(routeVerdict(requirements, caller(['payments:write'], { acr: 'aal1' }), 'POST/other', NOW).refusal).toEqual({
      reason: 'permission_missing',
    })
  })

  it('reports a report-mode sign-in requirement on its route without denying it', () => {
    const verdict = routeVerdict(requirements, caller(everything, { acr: 'aal1' }), 'DELETE/payments/9', NOW)
    expect(verdict.signIn).toEqual({ enforce: null, report: { acr: 'aal2', maxAge: 60 } })
    expect(verdict.denied).toEqual(['POST/payments'])
  })
})

describe('the policy of route requirements (property)', () => {
  const ROUTES = ['GET/a', 'POST/a', 'GET/a/7', 'DELETE/a/7/b', 'PUT/b/x/y', 'GET/', 'PATCH/c']
  const arn = (route: string) => `arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/${route}`
  const rows = fc.array(
    fc
      .record({
        method: fc.constantFrom('GET', 'POST', 'DELETE', '*'),
        resource: fc.constantFrom('/a', '/a/{id}', '/a/{id}/b', '/b/{proxy+}', '/', '/c'),
        permission: fc.option(fc.constantFrom('p:one', 'p:two'), { nil: null }),
        minAcr: fc.option(fc.constantFrom('aal1' as const, 'aal2' as const), { nil: null }),
        maxAge: fc.option(fc.integer({ min: 0, max: 600 }), { nil: null }),
        mode: fc.constantFrom('enforce' as const, 'report' as const),
      })
      .filter((row) => row.permission !== null || row.minAcr !== null || row.maxAge !== null)
      .map((row): RouteRequirement => ({ apiId: 'a1b2c3d4e5', ...row })),
    { maxLength: 8 },
  )
  const callers = fc.record({
    permissions: fc.subarray(['p:one', 'p:two']),
    acr: fc.constantFrom('aal1' as const, 'aal2' as const),
    age: fc.integer({ min: 0, max: 900 }),
  })
  /** Each row on its own: a route is open when every enforced row that matches it is met. */
  const meets = (row: RouteRequirement, { permissions, acr, age }: { permissions: string[]; acr: 'aal1' | 'aal2'; age: number }) =>
    (row.permission === null || permissions.includes(row.permission)) &&
    (row.minAcr !== 'aal2' || acr === 'aal2') &&
    (row.maxAge === null || age <= row.maxAge)

  it('answers, whichever route it is decided on, a policy that is right on every route (what a cached decision needs)', () => {
    fc.assert(
      fc.property(rows, callers, fc.constantFrom(...ROUTES), (requirements, who, asked) => {
        const verdict = routeVerdict(requirements, { permissions: who.permissions, acr: who.acr, authTime: NOW - who.age }, asked, NOW)
        const policy = toPolicy(
          {
            effect: 'Allow',
            identityId: 1,
            login: 'ada',
            sessionId: 's',
            roles: [],
            permissions: who.permissions,
            acr: who.acr,
            amr: [],
            authTime: NOW - who.age,
            principalType: 'user',
            keyId: null,
            routes: verdict,
          },
          arn(asked),
        )
        for (const route of ROUTES) {
          const open = requirements.every((row) => row.mode === 'report' || !patternMatches(routePattern(row), route) || meets(row, who))
          expect(policyAllows(policy, arn(route)), route).toBe(open)
        }
        // The refusal the context carries is this route's when it is refused.
        const here = requirements.filter((row) => row.mode === 'enforce' && patternMatches(routePattern(row), asked))
        if (here.some((row) => row.permission !== null && !who.permissions.includes(row.permission)))
          expect(verdict.refusal).toEqual({ reason: 'permission_missing' })
        else if (here.some((row) => !meets(row, who))) expect(verdict.refusal?.reason).toBe('insufficient_user_authentication')
      }),
      { numRuns: 2_000 },
    )
  })
})

describe('parseRouteRequirements', () => {
  it('reads METHOD /resource, ANY as every method, enforce by default', () => {
    expect(
      parseRouteRequirements({
        requirements: [
          { route: 'get /orders/{id}', permission: 'orders:read' },
          { route: 'ANY /files/{proxy+}', permission: 'files:read', mode: 'report' },
        ],
      }),
    ).toEqual([
      { method: 'GET', resource: '/orders/{id}', permission: 'orders:read', minAcr: null, maxAge: null, mode: 'enforce' },
      { method: '*', resource: '/files/{proxy+}', permission: 'files:read', minAcr: null, maxAge: null, mode: 'report' },
    ])
  })

  it('reads min_acr and max_age, with or without a permission', () => {
    expect(
      parseRouteRequirements({
        requirements: [
          { route: 'POST /refunds', min_acr: 'aal2', max_age: 300 },
          { route: 'GET /statements', permission: 'statements:read', max_age: 0 },
        ],
      }),
    ).toEqual([
      { method: 'POST', resource: '/refunds', permission: null, minAcr: 'aal2', maxAge: 300, mode: 'enforce' },
      { method: 'GET', resource: '/statements', permission: 'statements:read', minAcr: null, maxAge: 0, mode: 'enforce' },
    ])
  })

  it('refuses a sign-in requirement it cannot enforce, naming the entry', () => {
    const entry = (fields: Record<string, unknown>) => ({ requirements: [{ route: 'POST /refunds', ...fields }] })
    expect(() => parseRouteRequirements(entry({ min_acr: 'aal3' }))).toThrow(/requirements\[0\]\.min_acr/)
    expect(() => parseRouteRequirements(entry({ min_acr: 'AAL2' }))).toThrow(/min_acr/)
    for (const maxAge of [-1, 1.5, '300', 31_536_001, Number.NaN, null])
      expect(() => parseRouteRequirements(entry({ max_age: maxAge }))).toThrow(/requirements\[0\]\.max_age/)
    expect(() => parseRouteRequirements(entry({}))).toThrow(/requirements\[0\] must ask for a permission, a min_acr or a max_age/)
    expect(() => parseRouteRequirements(entry({ permission: null }))).toThrow(/permission/)
  })

  it('refuses what is not a declaration, naming the entry', () => {
    expect(() => parseRouteRequirements([])).toThrow(/"requirements"/)
    expect(() => parseRouteRequirements(null)).toThrow(/"requirements"/)
    expect(() => parseRouteRequirements({ requirements: [null] })).toThrow(/requirements\[0\]\.route/)
    expect(() => parseRouteRequirements({ requirements: [{ route: 'GET /a b', permission: 'a:b' }] })).toThrow(/requirements\[0\]\.route/)
    expect(() => parseRouteRequirements({ requirements: [{ route: 'GET /a?x=1', permission: 'a:b' }] })).toThrow(/route/)
    expect(() =>
      parseRouteRequirements({
        requirements: [
          { route: 'GET /a', permission: 'a:b' },
          { route: 'GET /a', permission: 7 },
        ],
      }),
    ).toThrow(/requirements\[1\]\.permission/)
  })
})
