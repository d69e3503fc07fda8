/**
 * The real authorizer handler (token verification + session lookup on PostgreSQL) for every event it
 * can receive: REST TOKEN and REQUEST, HTTP API payload 1.0 and 2.0 — built from AWS's sample events.
 */
import { readFileSync } from 'node:fs'
import type { APIGatewayRequestAuthorizerEvent, APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda'
import { beforeAll, describe, expect, it } from 'vitest'
import { handler } from '../../../functions/authorizer.js'
import { policyAllows } from '../../../infra/local/offline-authorizer.js'
import { api, registerUser } from '../../support/api.js'
import { requestAuthorizerEvent, tokenAuthorizerEvent } from '../../support/events.js'

const fixture = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../../fixtures/aws-events/${name}`, import.meta.url), 'utf8')) as T

function httpApiV2Event(headers: Record<string, string>): APIGatewayRequestAuthorizerEventV2 {
  const event = fixture<APIGatewayRequestAuthorizerEventV2>('apigw-v2-custom-authorizer-v2-request.json')
  // HTTP API lower-cases header names and lists the identity source's values.
  event.headers = { ...event.headers, ...headers }
  event.identitySource = Object.values(headers)
  return event
}

function httpApiV1Event(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  const event = fixture<APIGatewayRequestAuthorizerEvent>('apigw-v2-custom-authorizer-v1-request.json')
  event.headers = { ...event.headers, ...headers }
  return event
}

let user: Awaited<ReturnType<typeof registerUser>>
let sessionId: string
let bearer: string
/** The assurance of a session opened with a password (registration), as the context says it. */
const signedInWithPassword = { acr: 'aal1', amr: 'pwd', authTime: expect.any(Number) }

beforeAll(async () => {
  user = await registerUser()
  bearer = `Bearer ${user.tokens.access_token}`
  sessionId = JSON.parse(Buffer.from(user.tokens.access_token.split('.')[1] ?? '', 'base64url').toString())['sid']
})

describe('authorizer handler', () => {
  it('allows a REST REQUEST event with the identity, login, session, roles and permissions in the context', async () => {
    const result = await handler(requestAuthorizerEvent({ Authorization: bearer }))
    expect(result.principalId).toBe(String(user.identityId))
    expect(result.context).toEqual({
      identityId: user.identityId,
      login: user.login,
      sessionId,
      roles: '',
      permissions: '',
      ...signedInWithPassword,
    })
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' })
  })

  it('allows a REST TOKEN event', async () => {
    const result = await handler(tokenAuthorizerEvent(bearer))
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' })
  })

  it('answers an HTTP API payload 2.0 event with a simple response, reading lower-case headers', async () => {
    const result = await handler(httpApiV2Event({ authorization: bearer }))
    expect(result).toEqual({
      isAuthorized: true,
      context: { identityId: user.identityId, login: user.login, sessionId, roles: '', permissions: '', ...signedInWithPassword },
    })
  })

  it('refuses an HTTP API payload 2.0 event without a token', async () => {
    expect(await handler(httpApiV2Event({}))).toEqual({
      isAuthorized: false,
      context: { error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' },
    })
  })

  it('answers an HTTP API payload 1.0 event with an IAM policy', async () => {
    const result = await handler(httpApiV1Event({ Authorization: bearer }))
    expect(result).toMatchObject({ principalId: String(user.identityId), policyDocument: { Statement: [{ Effect: 'Allow' }] } })
  })

  it('gives a policy that, cached by API Gateway, is right for every route of the API', async () => {
    const result = await handler(requestAuthorizerEvent({ Authorization: bearer }))
    for (const arn of [
      'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/auth/me',
      'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/POST/auth/change-password',
      'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/DELETE/auth/sessions/123',
      'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/GET/orders/42/items',
    ]) {
      expect(policyAllows(result, arn), arn).toBe(true)
    }
    expect(policyAllows(result, 'arn:aws:execute-api:us-east-1:123456789012:otherapi/test/GET/auth/me')).toBe(false)
  })

  it('denies the access token of a session that has ended, in every flavour', async () => {
    const other = await registerUser()
    await api.logout(other.tokens.access_token)
    const header = `Bearer ${other.tokens.access_token}`
    expect((await handler(requestAuthorizerEvent({ Authorization: header }))).context).toEqual({
      error: 'Session has ended',
      code: 'UNAUTHORIZED',
      reason: 'session_ended',
    })
    expect(await handler(httpApiV2Event({ authorization: header }))).toMatchObject({ isAuthorized: false })
  })
})
