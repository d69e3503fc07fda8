import { describe, expect, it } from 'vitest'
import { parseRouteRequirements } from '../../../../lib/authz/route-requirement-declarations.js'
import { parseExecuteApiArn, patternMatches, routePattern, routeVerdict } from '../../../../lib/authz/route-requirements.js'
import type { RouteRequirement } from '../../../../lib/db/route-requirements.js'

const requirement = (method: string, resource: string, permission: string, mode: 'enforce' | 'report' = 'enforce'): RouteRequirement => ({
  apiId: 'a1b2c3d4e5',
  method,
  resource,
  permission,
  mode,
})

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
    expect(routeVerdict(requirements, ['orders:read', 'orders:write'], 'POST/orders')).toEqual({
      denied: ['POST/orders'],
      missing: { enforce: ['orders:audit'], report: [] },
    })
    expect(routeVerdict(requirements, [], 'GET/orders/7')).toEqual({
      denied: ['GET/orders', 'GET/orders/*', 'POST/orders'],
      missing: { enforce: ['orders:read'], report: [] },
    })
  })

  it('never denies a report requirement, and reports it on its route only', () => {
    const verdict = routeVerdict(requirements, ['orders:read', 'orders:write', 'orders:audit'], 'DELETE/orders/7')
    expect(verdict).toEqual({ denied: [], missing: { enforce: [], report: ['orders:cancel'] } })
    expect(routeVerdict(requirements, ['orders:read', 'orders:write', 'orders:audit'], 'GET/orders').missing.report).toEqual([])
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
      { method: 'GET', resource: '/orders/{id}', permission: 'orders:read', mode: 'enforce' },
      { method: '*', resource: '/files/{proxy+}', permission: 'files:read', mode: 'report' },
    ])
  })

  it('refuses what is not a declaration, naming the entry', () => {
    expect(() => parseRouteRequirements([])).toThrow(/"requirements"/)
    expect(() => parseRouteRequirements(null)).toThrow(/"requirements"/)
    expect(() => parseRouteRequirements({ requirements: [null] })).toThrow(/requirements\[0\]\.route/)
    expect(() => parseRouteRequirements({ requirements: [{ route: 'GET /a b', permission: 'a:b' }] })).toThrow(/requirements\[0\]\.route/)
    expect(() => parseRouteRequirements({ requirements: [{ route: 'GET /a?x=1', permission: 'a:b' }] })).toThrow(/route/)
    expect(() => parseRouteRequirements({ requirements: [{ route: 'GET /a', permission: 'a:b' }, { route: 'GET /a' }] })).toThrow(
      /requirements\[1\]\.permission/,
    )
  })
})
