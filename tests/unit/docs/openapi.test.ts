import { ApiError, BEARER_CHALLENGE, ERROR_STATUS, invalidField, REASONS, stepUpChallenge, stepUpRequired } from '@attune-auth/client'
import { describe, expect, it } from 'vitest'
import { AUDIT_EVENTS } from '../../../lib/audit/catalogue.js'
import { AUDIT_EVENT_TYPES } from '../../../lib/audit/events.js'
import { DISPLAY_NAME_MAX_LENGTH, LOGIN_MAX_LENGTH } from '../../../lib/auth/requests.js'
import { toApiError } from '../../../lib/http/failures.js'
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../../lib/passwords/hashing.js'
import { MAX_TOKEN_LENGTH } from '../../../lib/tokens/service.js'
import {
  documentedOperations,
  documentedRequestBody,
  documentedResponse,
  expectMatchesOpenApi,
  expectRequestMatchesOpenApi,
  openApiDocument,
} from '../../support/openapi.js'

// The examples the API was first specified with, copied verbatim (docs/openapi.yaml keeps them as `seed` examples).
const SEED_TOKEN_PAIR = {
  data: { access_token: 'eyJhbGc...', refresh_token: 'eyJhbGc...', token_type: 'Bearer', expires_in: 3600 },
}
const SEED_ME = { data: { id: 1, login: 'username', display_name: 'John Doe' } }
const SEED_PASSWORD_CHANGED = { data: { success: true, message: 'Password changed successfully' } }
const SEED_ERROR = { error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' }
const SEED_REQUESTS = [
  ['/auth/register', { login: 'username', password: 'securepassword123', display_name: 'John Doe' }],
  ['/auth/register', { login: 'testuser', password: 'testpass123', display_name: 'Test User' }],
  ['/auth/login', { login: 'username', password: 'securepassword123' }],
  ['/auth/login', { login: 'testuser', password: 'testpass123' }],
  ['/auth/refresh', { refresh_token: 'eyJhbGc...' }],
  ['/auth/change-password', { current_password: 'oldpassword123', new_password: 'newpassword456' }],
  ['/auth/change-password', { current_password: 'testpass123', new_password: 'newpass456' }],
] as const

const TOKEN_ROUTES = ['/auth/register', '/auth/login', '/auth/refresh'] as const
const PROTECTED = [
  'GET /auth/me',
  'POST /auth/change-password',
  'POST /auth/logout',
  'GET /auth/sessions',
  'DELETE /auth/sessions/{id}',
  'GET /auth/security-events',
  'POST /auth/email',
  'POST /auth/email/resend',
  'GET /auth/mfa',
  'POST /auth/mfa/totp',
  'POST /auth/mfa/totp/{id}/activate',
  'DELETE /auth/mfa/totp/{id}',
  'POST /auth/mfa/recovery-codes',
  'POST /auth/reauthenticate',
  'GET /auth/identities',
  'POST /auth/identities/{provider}/link',
  'DELETE /auth/identities/{id}',
  'GET /admin/permissions',
  'POST /admin/permissions',
  'GET /admin/roles',
  'POST /admin/roles',
  'PUT /admin/roles/{name}/permissions',
  'GET /admin/identities',
  'GET /admin/identities/{id}/roles',
  'PUT /admin/identities/{id}/roles',
  'DELETE /admin/identities/{id}/sessions',
  'PUT /admin/identities/{id}/suspension',
  'DELETE /admin/identities/{id}/suspension',
  'POST /admin/service-accounts',
  'POST /admin/service-accounts/{id}/keys',
  'GET /admin/service-accounts/{id}/keys',
  'DELETE /admin/service-accounts/{id}/keys/{keyId}',
  'POST /admin/service-accounts/{id}/keys/{keyId}/rotate',
]

/** The failure message of `fn`, or a test failure when it does not throw. */
function failureOf(fn: () => void): string {
  try {
    fn()
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected a failure, but the body was accepted')
}

const pairWith = (changes: Record<string, unknown>) => ({ data: { ...SEED_TOKEN_PAIR.data, ...changes } })
const pairWithout = (field: string) => ({
  data: Object.fromEntries(Object.entries(SEED_TOKEN_PAIR.data).filter(([key]) => key !== field)),
})

describe('docs/openapi.yaml', () => {
  it('is an OpenAPI 3.1.0 description of Attune Auth 0.1.0 served at http://localhost:8080', () => {
    const doc = openApiDocument()
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info.title).toBe('Attune Auth')
    expect(doc.info.version).toBe('0.1.0')
    expect(doc.servers?.map((server) => server.url)).toEqual(['http://localhost:8080'])
  })

  it('documents every route of the original specification, the session, provider sign-in and discovery routes, and no other', () => {
    expect(
      documentedOperations()
        .map(({ method, path }) => `${method} ${path}`)
        .sort(),
    ).toEqual([
      'DELETE /admin/identities/{id}/sessions',
      'DELETE /admin/identities/{id}/suspension',
      'DELETE /admin/service-accounts/{id}/keys/{keyId}',
      'DELETE /auth/identities/{id}',
      'DELETE /auth/mfa/totp/{id}',
      'DELETE /auth/sessions/{id}',
      'GET /.well-known/jwks.json',
      'GET /.well-known/openid-configuration',
      'GET /admin/identities',
      'GET /admin/identities/{id}/roles',
      'GET /admin/permissions',
      'GET /admin/roles',
      'GET /admin/service-accounts/{id}/keys',
      'GET /auth/identities',
      'GET /auth/me',
      'GET /auth/mfa',
      'GET /auth/oauth/{provider}/authorize',
      'GET /auth/oauth/{provider}/callback',
      'GET /auth/security-events',
      'GET /auth/sessions',
      'POST /admin/permissions',
      'POST /admin/roles',
      'POST /admin/service-accounts',
      'POST /admin/service-accounts/{id}/keys',
      'POST /admin/service-accounts/{id}/keys/{keyId}/rotate',
      'POST /auth/change-password',
      'POST /auth/email',
      'POST /auth/email/resend',
      'POST /auth/email/verify',
      'POST /auth/identities/{provider}/link',
      'POST /auth/login',
      'POST /auth/logout',
      'POST /auth/mfa/recovery-codes',
      'POST /auth/mfa/totp',
      'POST /auth/mfa/totp/{id}/activate',
      'POST /auth/mfa/verify',
      'POST /auth/oauth/token',
      'POST /auth/password/forgot',
      'POST /auth/password/reset',
      'POST /auth/reauthenticate',
      'POST /auth/refresh',
      'POST /auth/register',
      'PUT /admin/identities/{id}/roles',
      'PUT /admin/identities/{id}/suspension',
      'PUT /admin/roles/{name}/permissions',
    ])
  })

  it('documents the statuses each route answers', () => {
    const statuses = Object.fromEntries(
      documentedOperations().map(({ method, path, operation }) => [`${method} ${path}`, Object.keys(operation.responses).sort()]),
    )
    expect(statuses).toEqual({
      'POST /auth/register': ['200', '400', '409', '413', '415', '429', '500', '503'],
      'POST /auth/login': ['200', '400', '401', '413', '415', '429', '500', '503'],
      'POST /auth/refresh': ['200', '400', '401', '413', '415', '429', '500', '503'],
      'GET /auth/me': ['200', '401', '500', '503'],
      'POST /auth/change-password': ['200', '400', '401', '413', '415', '429', '500', '503'],
      'POST /auth/logout': ['200', '400', '401', '413', '415', '500', '503'],
      'GET /auth/sessions': ['200', '401', '500', '503'],
      'DELETE /auth/sessions/{id}': ['200', '401', '404', '500', '503'],
      'GET /auth/security-events': ['200', '400', '401', '500', '503'],
      'POST /auth/email': ['202', '400', '401', '413', '415', '429', '500', '503'],
      'POST /auth/email/verify': ['200', '400', '409', '413', '415', '429', '500', '503'],
      'POST /auth/email/resend': ['202', '401', '429', '500', '503'],
      'GET /admin/permissions': ['200', '401', '403', '500', '503'],
      'POST /admin/permissions': ['201', '400', '401', '403', '409', '413', '415', '500', '503'],
      'GET /admin/roles': ['200', '401', '403', '500', '503'],
      'POST /admin/roles': ['201', '400', '401', '403', '409', '413', '415', '500', '503'],
      'PUT /admin/roles/{name}/permissions': ['200', '400', '401', '403', '404', '413', '415', '500', '503'],
      'GET /admin/identities': ['200', '400', '401', '403', '500', '503'],
      'GET /admin/identities/{id}/roles': ['200', '401', '403', '404', '500', '503'],
      'PUT /admin/identities/{id}/roles': ['200', '400', '401', '403', '404', '413', '415', '500', '503'],
      'DELETE /admin/identities/{id}/sessions': ['200', '401', '403', '404', '500', '503'],
      'PUT /admin/identities/{id}/suspension': ['200', '400', '401', '403', '404', '409', '413', '415', '500', '503'],
      'DELETE /admin/identities/{id}/suspension': ['200', '401', '403', '404', '500', '503'],
      'POST /admin/service-accounts': ['201', '400', '401', '403', '409', '413', '415', '500', '503'],
      'POST /admin/service-accounts/{id}/keys': ['201', '400', '401', '403', '404', '413', '415', '500', '503'],
      'GET /admin/service-accounts/{id}/keys': ['200', '401', '403', '404', '500', '503'],
      'DELETE /admin/service-accounts/{id}/keys/{keyId}': ['200', '401', '403', '404', '500', '503'],
      'POST /admin/service-accounts/{id}/keys/{keyId}/rotate': ['201', '401', '403', '404', '500', '503'],
      'POST /auth/password/forgot': ['202', '400', '413', '415', '429', '500', '503'],
      'POST /auth/password/reset': ['200', '400', '401', '413', '415', '429', '500', '503'],
      'POST /auth/mfa/verify': ['200', '400', '401', '413', '415', '429', '500', '503'],
      'GET /auth/mfa': ['200', '401', '500', '503'],
      'POST /auth/mfa/totp': ['201', '400', '401', '409', '413', '415', '429', '500', '503'],
      'POST /auth/mfa/totp/{id}/activate': ['200', '400', '401', '404', '409', '413', '415', '500', '503'],
      'DELETE /auth/mfa/totp/{id}': ['200', '400', '401', '404', '413', '415', '429', '500', '503'],
      'POST /auth/mfa/recovery-codes': ['200', '400', '401', '404', '413', '415', '429', '500', '503'],
      'POST /auth/reauthenticate': ['200', '400', '401', '404', '413', '415', '429', '500', '503'],
      'GET /auth/oauth/{provider}/authorize': ['302', '400', '404', '500', '503'],
      'GET /auth/oauth/{provider}/callback': ['302', '400', '404', '429', '500', '503'],
      'POST /auth/oauth/token': ['200', '400', '401', '409', '413', '415', '429', '500', '503'],
      'GET /auth/identities': ['200', '401', '500', '503'],
      'POST /auth/identities/{provider}/link': ['200', '400', '401', '404', '409', '413', '415', '429', '500', '503'],
      'DELETE /auth/identities/{id}': ['200', '401', '404', '409', '500', '503'],
      'GET /.well-known/jwks.json': ['200', '500'],
      'GET /.well-known/openid-configuration': ['200', '404', '500'],
    })
  })

  it('gives every operation an operationId, a summary and a description', () => {
    const operations = documentedOperations()
    for (const { operation } of operations) {
      expect(operation.operationId).toMatch(/^[a-zA-Z]+$/)
      expect(operation.summary).toBeTruthy()
      expect(operation.description).toBeTruthy()
    }
    expect(new Set(operations.map(({ operation }) => operation.operationId)).size).toBe(operations.length)
  })

  it('protects /auth/me, /auth/change-password, the session, security-event, two-factor, linked-identity and admin routes with the bearerAuth JWT scheme, and only them', () => {
    expect(openApiDocument().components?.securitySchemes?.['bearerAuth']).toMatchObject({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
    })
    for (const { method, path, operation } of documentedOperations()) {
      const expected = PROTECTED.includes(`${method} ${path}`) ? [{ bearerAuth: [] }] : []
      expect(operation.security, `${method} ${path}`).toEqual(expected)
    }
  })

  it('documents the WWW-Authenticate challenge on the 401 of every protected route', () => {
    for (const route of PROTECTED) {
      const [method = '', path = ''] = route.split(' ')
      expect(Object.keys(documentedResponse(method, path, 401).headers ?? {}), route).toContain('WWW-Authenticate')
    }
    const challenge = openApiDocument().components?.headers?.['WWW-Authenticate']
    expect(challenge?.['schema']).toMatchObject({ type: 'string', examples: [BEARER_CHALLENGE] })
  })

  it('lists exactly the audit event types of lib/audit/events.ts', () => {
    expect(openApiDocument().components?.schemas?.['AuditEventType']?.['enum']).toEqual(Object.keys(AUDIT_EVENTS))
    expect(Object.keys(AUDIT_EVENTS)).toEqual([...AUDIT_EVENT_TYPES])
  })

  it('lists exactly the error codes and reasons of the error contract (@attune-auth/client)', () => {
    expect(openApiDocument().components?.schemas?.['ErrorCode']?.['enum']).toEqual(Object.keys(ERROR_STATUS))
    expect(openApiDocument().components?.schemas?.['ErrorReason']?.['enum']).toEqual(Object.keys(REASONS))
  })

  it("documents the original specification's two fields on change-password 200 exactly, with the new token pair added beside them", () => {
    const changed = openApiDocument().components?.schemas?.['PasswordChanged']
    expect(changed?.['properties']).toMatchObject({
      success: { type: 'boolean', const: true },
      message: { type: 'string', const: 'Password changed successfully' },
    })
    const withPair = { data: { ...SEED_PASSWORD_CHANGED.data, ...SEED_TOKEN_PAIR.data } }
    expect(() => expectMatchesOpenApi('POST', '/auth/change-password', 200, withPair)).not.toThrow()
  })

  it('gives every response and request body examples that match their own schema', () => {
    let checked = 0
    for (const { method, path, operation } of documentedOperations()) {
      for (const status of Object.keys(operation.responses)) {
        const response = documentedResponse(method, path, Number(status))
        if (!response.content) {
          // A redirect (a provider sign-in's hops) answers no body: its Location is documented instead.
          expect(status, `${method} ${path} ${status} has no body`).toMatch(/^3\d\d$/)
          expect(Object.keys(response.headers ?? {}), `${method} ${path} ${status}`).toContain('Location')
          continue
        }
        const examples = response.content['application/json']?.examples ?? {}
        expect(Object.keys(examples).length, `${method} ${path} ${status} has examples`).toBeGreaterThan(0)
        for (const example of Object.values(examples)) {
          expectMatchesOpenApi(method, path, Number(status), example.value)
          checked++
        }
      }
      if (operation.requestBody) {
        const examples = documentedRequestBody(method, path).content['application/json']?.examples ?? {}
        expect(Object.keys(examples).length, `${method} ${path} request has examples`).toBeGreaterThan(0)
        for (const example of Object.values(examples)) {
          expectRequestMatchesOpenApi(method, path, example.value)
          checked++
        }
      }
    }
    expect(checked).toBeGreaterThan(30)
  })

  it("documents the provider sign-in's browser hops as 302s with Location, no-store and no-referrer, and no body", () => {
    for (const path of ['/auth/oauth/{provider}/authorize', '/auth/oauth/{provider}/callback']) {
      const redirect = documentedResponse('GET', path, 302)
      expect(redirect.content, path).toBeUndefined()
      expect(Object.keys(redirect.headers ?? {}).sort(), path).toEqual(['Cache-Control', 'Location', 'Referrer-Policy'])
    }
    expect(openApiDocument().components?.headers?.['Referrer-Policy']?.['schema']).toEqual({ type: 'string', const: 'no-referrer' })
    expect(() => expectMatchesOpenApi('GET', '/auth/oauth/example/authorize', 302, null)).not.toThrow()
  })

  it('documents the step-up challenge, with max_age, on the 401 of the routes that change the ways in', () => {
    for (const route of ['POST /auth/identities/{provider}/link', 'DELETE /auth/identities/{id}']) {
      const [method = '', path = ''] = route.split(' ')
      const header = documentedResponse(method, path, 401).headers?.['WWW-Authenticate'] as { $ref?: string }
      const challenge = openApiDocument().components?.headers?.[header.$ref?.split('/').pop() ?? '']
      expect(challenge?.['schema'], route).toMatchObject({
        examples: [BEARER_CHALLENGE, stepUpChallenge({ maxAge: 300 })],
      })
    }
  })

  it("uses the original specification's examples for the token pair, the current user, the password change and the error", () => {
    const example = (method: string, path: string, status: number, name: string) =>
      documentedResponse(method, path, status).content?.['application/json']?.examples?.[name]?.value
    for (const path of TOKEN_ROUTES) expect(example('POST', path, 200, 'seed'), path).toEqual(SEED_TOKEN_PAIR)
    expect(example('GET', '/auth/me', 200, 'seed')).toEqual(SEED_ME)
    expect(example('POST', '/auth/change-password', 200, 'changed')).toMatchObject(SEED_PASSWORD_CHANGED)
    expect(example('GET', '/auth/me', 401, 'invalidToken')).toEqual({ ...SEED_ERROR, reason: 'token_invalid' })
  })
})

describe('expectMatchesOpenApi', () => {
  it.each(TOKEN_ROUTES)("accepts the original specification's example token pair for POST %s 200", (path) => {
    expect(() => expectMatchesOpenApi('POST', path, 200, SEED_TOKEN_PAIR)).not.toThrow()
  })

  it('accepts the method in any letter case', () => {
    expect(() => expectMatchesOpenApi('post', '/auth/login', 200, SEED_TOKEN_PAIR)).not.toThrow()
  })

  it('rejects a token pair with an extra field', () => {
    expect(failureOf(() => expectMatchesOpenApi('POST', '/auth/login', 200, pairWith({ scope: 'all' })))).toContain(
      'must NOT have additional properties ("scope")',
    )
  })

  it.each(['access_token', 'refresh_token', 'token_type', 'expires_in'])('rejects a token pair without %s', (field) => {
    expect(failureOf(() => expectMatchesOpenApi('POST', '/auth/refresh', 200, pairWithout(field)))).toContain(
      `must have required property '${field}'`,
    )
  })

  it.each([
    ['a token type other than Bearer', { token_type: 'bearer' }],
    ['an expires_in of 0', { expires_in: 0 }],
    ['a fractional expires_in', { expires_in: 3600.5 }],
    ['an expires_in sent as a string', { expires_in: '3600' }],
    ['an empty access token', { access_token: '' }],
  ])('rejects a token pair with %s', (_, changes) => {
    expect(() => expectMatchesOpenApi('POST', '/auth/register', 200, pairWith(changes))).toThrow()
  })

  it('rejects a token pair outside the data envelope, or an envelope with another field', () => {
    expect(() => expectMatchesOpenApi('POST', '/auth/login', 200, SEED_TOKEN_PAIR.data)).toThrow(/required property 'data'/)
    expect(() => expectMatchesOpenApi('POST', '/auth/login', 200, { ...SEED_TOKEN_PAIR, meta: {} })).toThrow(/additional properties/)
  })

  it("accepts the original specification's current user for GET /auth/me 200, and a user without a display name", () => {
    expect(() => expectMatchesOpenApi('GET', '/auth/me', 200, SEED_ME)).not.toThrow()
    expect(() => expectMatchesOpenApi('GET', '/auth/me', 200, { data: { ...SEED_ME.data, display_name: null } })).not.toThrow()
  })

  it.each([
    ['without display_name', { id: 1, login: 'username' }],
    ['with a string id', { id: '1', login: 'username', display_name: null }],
    ['with a password hash', { ...SEED_ME.data, password_hash: '$argon2id$...' }],
  ])('rejects a current user %s', (_, data) => {
    expect(() => expectMatchesOpenApi('GET', '/auth/me', 200, { data })).toThrow()
  })

  it('rejects a password change answer with another message or success false', () => {
    expect(() =>
      expectMatchesOpenApi('POST', '/auth/change-password', 200, { data: { success: true, message: 'Password changed' } }),
    ).toThrow(/must be equal to constant \("Password changed successfully"\)/)
    expect(() =>
      expectMatchesOpenApi('POST', '/auth/change-password', 200, { data: { ...SEED_PASSWORD_CHANGED.data, success: false } }),
    ).toThrow(/must be equal to constant \(true\)/)
  })

  it("accepts the original specification's error example for GET /auth/me 401", () => {
    expect(() => expectMatchesOpenApi('GET', '/auth/me', 401, { ...SEED_ERROR, reason: 'token_invalid' })).not.toThrow()
  })

  it('rejects an error body whose code is not a documented code', () => {
    expect(failureOf(() => expectMatchesOpenApi('GET', '/auth/me', 401, { error: 'Nope', code: 'NOT_A_CODE' }))).toContain(
      'body/code must be equal to one of the allowed values',
    )
  })

  it('rejects an error body whose code belongs to another status', () => {
    expect(() =>
      expectMatchesOpenApi('POST', '/auth/login', 401, {
        error: 'Invalid login or password',
        code: 'BAD_REQUEST',
        reason: 'invalid_credentials',
      }),
    ).toThrow(/must be equal to constant \("UNAUTHORIZED"\)/)
  })

  it('rejects an error body with an extra field or without its message', () => {
    expect(() => expectMatchesOpenApi('POST', '/auth/register', 409, { ...new ApiError('login_taken').toBody(), detail: 'x' })).toThrow()
    expect(() => expectMatchesOpenApi('POST', '/auth/register', 409, { code: 'CONFLICT' })).toThrow(/required property 'error'/)
  })

  it('accepts the error bodies the error contract (@attune-auth/client) produces, at their status, on the routes that answer them', () => {
    const cases: Array<[string, string, ApiError]> = [
      ['POST', '/auth/register', invalidField('password must be at least 8 characters')],
      ['POST', '/auth/register', new ApiError('login_taken')],
      ['POST', '/auth/register', new ApiError('body_too_large', { message: 'Request body must be at most 16384 bytes' })],
      ['POST', '/auth/register', new ApiError('unsupported_media_type')],
      ['POST', '/auth/register', new ApiError('malformed_body')],
      ['POST', '/auth/register', new ApiError('body_missing')],
      ['POST', '/auth/login', new ApiError('invalid_credentials')],
      ['POST', '/auth/refresh', new ApiError('refresh_token_invalid')],
      ['POST', '/auth/refresh', new ApiError('refresh_token_expired')],
      ['POST', '/auth/refresh', new ApiError('refresh_token_reused')],
      ['GET', '/auth/me', new ApiError('token_missing')],
      ['GET', '/auth/me', new ApiError('token_expired')],
      ['GET', '/auth/me', new ApiError('session_ended')],
      ['POST', '/auth/change-password', new ApiError('invalid_current_password')],
      ['DELETE', '/auth/sessions/{id}', new ApiError('session_not_found')],
      ['GET', '/.well-known/openid-configuration', new ApiError('discovery_not_configured')],
      ['GET', '/auth/oauth/{provider}/authorize', invalidField('code_challenge_method must be S256')],
      ['GET', '/auth/oauth/{provider}/authorize', new ApiError('redirect_uri_not_allowed')],
      ['GET', '/auth/oauth/{provider}/authorize', new ApiError('oauth_provider_unknown')],
      ['GET', '/auth/oauth/{provider}/authorize', new ApiError('service_unavailable')],
      ['GET', '/auth/oauth/{provider}/callback', new ApiError('oauth_state_invalid')],
      ['GET', '/auth/oauth/{provider}/callback', new ApiError('oauth_provider_unknown')],
      ['GET', '/auth/oauth/{provider}/callback', new ApiError('too_many_attempts')],
      ['POST', '/auth/oauth/token', new ApiError('oauth_code_invalid')],
      ['POST', '/auth/oauth/token', new ApiError('account_exists_link_required')],
      ['POST', '/auth/oauth/token', new ApiError('too_many_attempts')],
      ['POST', '/auth/identities/{provider}/link', stepUpRequired({ maxAge: 300 })],
      ['POST', '/auth/identities/{provider}/link', new ApiError('oauth_code_invalid')],
      ['POST', '/auth/identities/{provider}/link', new ApiError('oauth_provider_unknown')],
      ['POST', '/auth/identities/{provider}/link', new ApiError('identity_already_linked')],
      ['POST', '/auth/identities/{provider}/link', new ApiError('redirect_uri_not_allowed')],
      ['DELETE', '/auth/identities/{id}', stepUpRequired({ maxAge: 300 })],
      ['DELETE', '/auth/identities/{id}', new ApiError('linked_identity_not_found')],
      ['DELETE', '/auth/identities/{id}', new ApiError('last_way_in')],
    ]
    for (const { method, path } of documentedOperations()) {
      cases.push([method, path, toApiError(new Error('boom'))])
      // The discovery documents never touch the database.
      if (!path.startsWith('/.well-known/'))
        cases.push([method, path, toApiError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))])
    }
    for (const [method, path, error] of cases) {
      expect(() => expectMatchesOpenApi(method, path, error.status, error.toBody()), `${method} ${path} ${error.status}`).not.toThrow()
    }
  })

  it('rejects an undocumented status', () => {
    expect(
      failureOf(() => expectMatchesOpenApi('GET', '/auth/me', 400, { error: 'x', code: 'BAD_REQUEST', reason: 'invalid_field' })),
    ).toContain('GET /auth/me 400 is not documented')
    expect(() => expectMatchesOpenApi('POST', '/auth/login', 409, { error: 'x', code: 'CONFLICT' })).toThrow(/not documented/)
    expect(() => expectMatchesOpenApi('POST', '/auth/register', 201, SEED_TOKEN_PAIR)).toThrow(/not documented/)
  })

  it('rejects an undocumented route or method', () => {
    expect(() => expectMatchesOpenApi('POST', '/auth/signup', 200, {})).toThrow(/POST \/auth\/signup is not documented/)
    expect(() => expectMatchesOpenApi('GET', '/auth/login', 200, SEED_TOKEN_PAIR)).toThrow(/GET \/auth\/login is not documented/)
  })

  it('names the operation, each problem and the body when a body does not match', () => {
    const message = failureOf(() => expectMatchesOpenApi('POST', '/auth/login', 200, pairWith({ token_type: 'MAC', extra: 1 })))
    expect(message).toContain('POST /auth/login 200')
    expect(message).toContain('body/data must NOT have additional properties ("extra")')
    expect(message).toContain('body/data/token_type must be equal to constant ("Bearer")')
    expect(message).toContain('"token_type":"MAC"')
  })
})

describe('expectRequestMatchesOpenApi', () => {
  it.each(SEED_REQUESTS)("accepts the original specification's request example for POST %s", (path, body) => {
    expect(() => expectRequestMatchesOpenApi('POST', path, body)).not.toThrow()
  })

  it('accepts a registration without a display name, or with a null one', () => {
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/register', { login: 'u', password: 'longenough' })).not.toThrow()
    expect(() =>
      expectRequestMatchesOpenApi('POST', '/auth/register', { login: 'u', password: 'longenough', display_name: null }),
    ).not.toThrow()
  })

  it('requires every field but display_name', () => {
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/register', { login: 'u' })).toThrow(/required property 'password'/)
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/login', { password: 'longenough' })).toThrow(/required property 'login'/)
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/refresh', {})).toThrow(/required property 'refresh_token'/)
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/change-password', { new_password: 'longenough' })).toThrow(
      /required property 'current_password'/,
    )
  })

  it('documents the bounds lib/auth/requests.ts enforces', () => {
    const accepts = (path: string, body: Record<string, unknown>) =>
      expect(() => expectRequestMatchesOpenApi('POST', path, body), JSON.stringify(body).slice(0, 80)).not.toThrow()
    const rejects = (path: string, body: Record<string, unknown>) =>
      expect(() => expectRequestMatchesOpenApi('POST', path, body), JSON.stringify(body).slice(0, 80)).toThrow()
    const password = (n: number) => 'p'.repeat(n)

    accepts('/auth/register', { login: 'l'.repeat(LOGIN_MAX_LENGTH), password: password(PASSWORD_MIN_LENGTH) })
    rejects('/auth/register', { login: 'l'.repeat(LOGIN_MAX_LENGTH + 1), password: password(PASSWORD_MIN_LENGTH) })
    rejects('/auth/register', { login: '', password: password(PASSWORD_MIN_LENGTH) })
    rejects('/auth/register', { login: 'u', password: password(PASSWORD_MIN_LENGTH - 1) })
    accepts('/auth/register', { login: 'u', password: password(PASSWORD_MAX_LENGTH) })
    rejects('/auth/register', { login: 'u', password: password(PASSWORD_MAX_LENGTH + 1) })
    accepts('/auth/register', { login: 'u', password: password(8), display_name: 'd'.repeat(DISPLAY_NAME_MAX_LENGTH) })
    rejects('/auth/register', { login: 'u', password: password(8), display_name: 'd'.repeat(DISPLAY_NAME_MAX_LENGTH + 1) })

    // A password being checked is only bounded: the policy applies to new passwords.
    accepts('/auth/login', { login: 'u', password: 'p' })
    rejects('/auth/login', { login: 'u', password: '' })
    rejects('/auth/login', { login: 'u', password: password(PASSWORD_MAX_LENGTH + 1) })
    accepts('/auth/change-password', { current_password: 'p', new_password: password(PASSWORD_MIN_LENGTH) })
    rejects('/auth/change-password', { current_password: 'p', new_password: password(PASSWORD_MIN_LENGTH - 1) })
    rejects('/auth/change-password', { current_password: password(8), new_password: password(PASSWORD_MAX_LENGTH + 1) })

    accepts('/auth/refresh', { refresh_token: 't'.repeat(MAX_TOKEN_LENGTH) })
    rejects('/auth/refresh', { refresh_token: 't'.repeat(MAX_TOKEN_LENGTH + 1) })
    rejects('/auth/refresh', { refresh_token: '' })
  })

  it('documents the PKCE bounds lib/oauth/requests.ts enforces, and a link body that is a start or a finish, never both', () => {
    const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'
    const verifier = (n: number) => 'v'.repeat(n)
    const start = { redirect_uri: 'https://app.example.com/auth/callback', code_challenge: challenge, code_challenge_method: 'S256' }
    const finish = { code: 'SfuimKcZ6icjkb4cVMMb8hEkpOqK3cx4PowqQM22sGY', code_verifier: verifier(43) }
    const link = '/auth/identities/example/link'

    expect(() => expectRequestMatchesOpenApi('POST', '/auth/oauth/token', finish)).not.toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/oauth/token', { ...finish, code_verifier: verifier(128) })).not.toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/oauth/token', { ...finish, code_verifier: verifier(42) })).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/oauth/token', { ...finish, code_verifier: verifier(129) })).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/oauth/token', { ...finish, code: 'c'.repeat(129) })).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', '/auth/oauth/token', { code: finish.code })).toThrow(/code_verifier/)

    expect(() => expectRequestMatchesOpenApi('POST', link, start)).not.toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, { ...start, state: 's'.repeat(512) })).not.toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, finish)).not.toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, { ...start, ...finish })).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, {})).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, { ...start, code_challenge_method: 'plain' })).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, { ...start, code_challenge: challenge.slice(1) })).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, { ...start, state: 'two words' })).toThrow()
    expect(() => expectRequestMatchesOpenApi('POST', link, { ...start, state: 's'.repeat(513) })).toThrow()
  })

  it('rejects a request body for a route that takes none', () => {
    expect(() => expectRequestMatchesOpenApi('GET', '/auth/me', {})).toThrow(/documents no request body/)
  })
})
