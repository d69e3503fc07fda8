import { readFileSync } from 'node:fs'
import { ApiError, requireAuth, requirePermission } from '@attune-auth/client'
import { describe, expect, it } from 'vitest'
import { restEvent } from '../../../support/events.js'

const SID = '0b5e6c1e-3f0a-4c47-9a53-5d1f2b7c9e10'
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../../fixtures/aws-events/${name}`, import.meta.url), 'utf8'))

/** A caller with no roles or permissions, signed in by a means unknown long ago (what a context without them means). */
const NOTHING_GRANTED = { roles: [], permissions: [], acr: 'aal1', amr: [], authTime: 0, principalType: 'user', keyId: null }

describe('requireAuth', () => {
  it('reads the user from a REST event, where API Gateway stringifies context values', () => {
    const event = restEvent({
      method: 'GET',
      path: '/auth/me',
      authorizer: {
        principalId: '42',
        identityId: '42',
        login: 'alice',
        sessionId: SID,
        roles: 'clerk',
        permissions: 'orders:read orders:write',
        acr: 'aal2',
        amr: 'pwd otp',
        authTime: '1764000000',
      },
    })
    expect(requireAuth(event)).toEqual({
      identityId: 42,
      login: 'alice',
      sessionId: SID,
      roles: ['clerk'],
      permissions: ['orders:read', 'orders:write'],
      acr: 'aal2',
      amr: ['pwd', 'otp'],
      authTime: 1764000000,
      principalType: 'user',
      keyId: null,
    })
  })

  it('reads the user from a number-typed context too', () => {
    const event = restEvent({ method: 'GET', path: '/auth/me', authorizer: { identityId: 42, login: 'alice', sessionId: SID } })
    // No roles, permissions or assurance in the context (an authorizer from before them): none, and the lowest.
    expect(requireAuth(event)).toEqual({ identityId: 42, login: 'alice', sessionId: SID, ...NOTHING_GRANTED })
  })

  it('reads a service account behind an API key: principalType service and the key id', () => {
    const keyId = '0b5e6c1e-3f0a-4c47-9a53-5d1f2b7c9e10'
    const event = restEvent({
      method: 'GET',
      path: '/orders',
      authorizer: {
        identityId: '9',
        login: 'service:orders-sync',
        sessionId: keyId,
        principalType: 'service',
        keyId,
        permissions: 'orders:read',
      },
    })
    expect(requireAuth(event)).toMatchObject({ identityId: 9, principalType: 'service', keyId, permissions: ['orders:read'], acr: 'aal1' })
  })

  it('reads the user from an HTTP API event (context under authorizer.lambda)', () => {
    const event = fixture('apigw-v2-request-lambda-authorizer.json')
    event.requestContext.authorizer.lambda = {
      identityId: 5,
      login: 'carol',
      sessionId: SID,
      roles: '',
      permissions: '',
      acr: 'aal1',
      amr: 'pwd',
      authTime: 1764000000,
    }
    expect(requireAuth(event)).toEqual({
      identityId: 5,
      login: 'carol',
      sessionId: SID,
      ...NOTHING_GRANTED,
      amr: ['pwd'],
      authTime: 1764000000,
    })
  })

  it('answers 401 with a Bearer challenge when no authorizer ran', () => {
    const event = restEvent({ method: 'GET', path: '/auth/me' })
    try {
      requireAuth(event)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(ApiError)
      expect((error as ApiError).status).toBe(401)
      expect((error as ApiError).toBody()).toEqual({ error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' })
      expect((error as ApiError).headers['WWW-Authenticate']).toBe('Bearer realm="attune-auth"')
    }
  })

  it('answers 401 for the AWS sample’s foreign authorizer context (no identity)', () => {
    expect(() => requireAuth(fixture('apigw-request.json'))).toThrow(ApiError)
  })

  it('refuses a context without a session id', () => {
    const event = restEvent({ method: 'GET', path: '/auth/me', authorizer: { identityId: '42', login: 'alice' } })
    expect(() => requireAuth(event)).toThrow(ApiError)
  })

  it('refuses a context whose identity id is not a positive integer', () => {
    for (const identityId of ['0', '-3', 'abc', '1.5', '']) {
      const event = restEvent({ method: 'GET', path: '/auth/me', authorizer: { identityId, login: 'alice', sessionId: SID } })
      expect(() => requireAuth(event)).toThrow(ApiError)
    }
  })
})

describe('@attune-auth/client', () => {
  it('exports the same modules from its root and its subpaths (one ApiError class for `instanceof`)', async () => {
    const root = await import('@attune-auth/client')
    const errors = await import('@attune-auth/client/errors')
    const ids = await import('@attune-auth/client/ids')
    const auth = await import('@attune-auth/client/require-auth')
    expect(root.ApiError).toBe(errors.ApiError)
    expect(root.REASONS).toBe(errors.REASONS)
    expect(root.IDENTITY_ID).toBe(ids.IDENTITY_ID)
    expect(root.requireAuth).toBe(auth.requireAuth)
    expect(Object.keys(root).sort()).toEqual([...Object.keys(errors), ...Object.keys(ids), ...Object.keys(auth)].sort())
  })
})

describe('requirePermission', () => {
  const event = (permissions: string) =>
    restEvent({
      method: 'POST',
      path: '/orders',
      authorizer: { identityId: '42', login: 'alice', sessionId: SID, roles: 'clerk', permissions },
    })

  it('answers the caller when it holds the permission', () => {
    expect(requirePermission(event('orders:read orders:write'), 'orders:write')).toMatchObject({
      identityId: 42,
      permissions: ['orders:read', 'orders:write'],
    })
  })

  it('answers 403 FORBIDDEN (permission_missing) naming the permission when it does not, and 401 without a caller', () => {
    let refused: unknown
    try {
      requirePermission(event('orders:read'), 'orders:write')
    } catch (error) {
      refused = error
    }
    expect(refused).toBeInstanceOf(ApiError)
    expect((refused as ApiError).status).toBe(403)
    expect((refused as ApiError).toBody()).toEqual({
      error: 'You do not have the permission this needs (orders:write)',
      code: 'FORBIDDEN',
      reason: 'permission_missing',
    })
    // A permission is matched whole: `orders:write` is not `orders:writer`.
    expect(() => requirePermission(event('orders:writer'), 'orders:write')).toThrow(ApiError)
    expect(() => requirePermission(restEvent({ method: 'POST', path: '/orders' }), 'orders:write')).toThrow('Missing authentication token')
  })
})
