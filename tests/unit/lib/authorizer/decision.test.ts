import type { APIGatewayAuthorizerResult } from 'aws-lambda'
import { describe, expect, it } from 'vitest'
import type { RestAuthorizerEvent } from '../../../../lib/authorizer/decision.js'
import { decide, toPolicy } from '../../../../lib/authorizer/decision.js'
import { getConfig } from '../../../../lib/config.js'
import { createTokenService, newIdentityClaims, passwordAssurance } from '../../../../lib/tokens/service.js'
import { requestAuthorizerEvent, tokenAuthorizerEvent } from '../../../support/events.js'
import { forge, SESSION_ID } from '../../../support/tokens.js'

const tokens = createTokenService(getConfig().jwt)
const secret = getConfig().jwt.secret
/** Sessions in memory, `identityId:sessionId` → the identity's login (the real store is tested in integration). */
const activeSessions = new Map<string, string>()
const endedSessions = new Set<string>()
const sessions = {
  find: async (identityId: number, sessionId: string) => {
    const key = `${identityId}:${sessionId}`
    const login = activeSessions.get(key)
    return login === undefined
      ? undefined
      : { login, active: !endedSessions.has(key), authzVersion: 0, requirementsVersion: 0, assurance: passwordAssurance(0) }
  },
}
/** Every identity holds the role `clerk` with `orders:read` (the real grants are tested in integration). */
/** What the context says of a password sign-in at time 0 (the session store above). */
const PASSWORD_CONTEXT = { acr: 'aal1', amr: 'pwd', authTime: 0 }
const grants = { grantsOf: async () => ({ roles: ['clerk'], permissions: ['orders:read'], validUntil: null }) }
/** The decision and policy of lib/authorizer with that session store. */
/** No API here declares route requirements (they are tested in integration). */
const requirements = { forApi: async () => [] }
/** No key is looked up here: a key's checksum is checked before any lookup (keys are tested in integration). */
const apiKeys = { find: async () => undefined }
const handler = async (event: RestAuthorizerEvent) =>
  toPolicy(await decide(event, { tokens, sessions, grants, requirements, apiKeys, apiKeyEnvironment: 'test' }), event.methodArn)
/** A token pair of an active session of `identityId`, whose login (in the store, not the token) is `login`. */
const issue = (identityId: number, login: string, sessionId = SESSION_ID) => {
  activeSessions.set(`${identityId}:${sessionId}`, login)
  return tokens.issuePair({ identityId, sessionId }, tokens.newRefreshTokenId(), newIdentityClaims(0))
}
const STAGE_WILDCARD = 'arn:aws:execute-api:us-east-1:123456789012:s4x3opwd6i/test/*/*'

const statement = (result: APIGatewayAuthorizerResult) => result.policyDocument.Statement[0] as { Effect: string; Resource: string }

describe('authorizer decision (REST REQUEST event)', () => {
  it('allows a valid access token with the identity in the context', async () => {
    const { access_token } = await issue(7, 'alice')
    const result = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${access_token}` }))
    expect(result.principalId).toBe('7')
    expect(statement(result)).toMatchObject({ Effect: 'Allow' })
    expect(result.context).toEqual({
      identityId: 7,
      login: 'alice',
      sessionId: SESSION_ID,
      roles: 'clerk',
      permissions: 'orders:read',
      ...PASSWORD_CONTEXT,
    })
  })

  it('reads the Authorization header in any letter case', async () => {
    const { access_token } = await issue(7, 'alice')
    for (const name of ['authorization', 'AUTHORIZATION', 'Authorization']) {
      const result = await handler(requestAuthorizerEvent({ [name]: `Bearer ${access_token}` }))
      expect(statement(result).Effect).toBe('Allow')
    }
  })

  it('accepts the Bearer scheme in any letter case (RFC 7235)', async () => {
    const { access_token } = await issue(7, 'alice')
    const result = await handler(requestAuthorizerEvent({ Authorization: `bearer ${access_token}` }))
    expect(statement(result).Effect).toBe('Allow')
  })

  it('covers every method and path of the stage, so a cached policy is right for every route', async () => {
    const { access_token } = await issue(7, 'alice')
    const allow = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${access_token}` }))
    const deny = await handler(requestAuthorizerEvent({}))
    expect(statement(allow).Resource).toBe(STAGE_WILDCARD)
    expect(statement(deny).Resource).toBe(STAGE_WILDCARD)
  })

  it('denies a missing header with "Missing authentication token"', async () => {
    const result = await handler(requestAuthorizerEvent({}))
    expect(statement(result).Effect).toBe('Deny')
    expect(result.context).toEqual({ error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' })
  })

  it('denies "Bearer" without a token, and other schemes, as missing', async () => {
    for (const value of ['Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Token abc']) {
      const result = await handler(requestAuthorizerEvent({ Authorization: value }))
      expect(result.context).toEqual({ error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' })
    }
  })

  it('denies garbage with "Invalid authentication token"', async () => {
    const result = await handler(requestAuthorizerEvent({ Authorization: 'Bearer not.a.jwt' }))
    expect(statement(result).Effect).toBe('Deny')
    expect(result.context).toEqual({ error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' })
  })

  it('denies an expired token with "Authentication token expired"', async () => {
    const iat = Math.floor(Date.now() / 1000) - 7200
    const expired = await forge(
      {
        sub: '7',
        login: 'alice',
        sid: SESSION_ID,
        iss: getConfig().jwt.issuer,
        aud: getConfig().jwt.audience,
        iat,
        exp: iat + 3600,
        jti: crypto.randomUUID(),
      },
      {},
      secret,
    )
    const result = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${expired}` }))
    expect(result.context).toEqual({ error: 'Authentication token expired', code: 'UNAUTHORIZED', reason: 'token_expired' })
  })

  it('denies a refresh token presented as an access token', async () => {
    const { refresh_token } = await issue(7, 'alice')
    const result = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${refresh_token}` }))
    expect(result.context).toEqual({ error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' })
  })

  it('denies alg none', async () => {
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const now = Math.floor(Date.now() / 1000)
    const token = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ sub: '7', login: 'alice', sid: SESSION_ID, iat: now, exp: now + 60, jti: crypto.randomUUID(), iss: getConfig().jwt.issuer, aud: getConfig().jwt.audience })}.`
    const result = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${token}` }))
    expect(result.context).toEqual({ error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' })
  })
})

describe('authorizer decision (sessions)', () => {
  it('denies a valid token whose session has ended, with "Session has ended"', async () => {
    const ended = crypto.randomUUID()
    const { access_token } = await issue(7, 'alice', ended)
    endedSessions.add(`7:${ended}`)
    const result = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${access_token}` }))
    expect(statement(result).Effect).toBe('Deny')
    expect(result.context).toEqual({ error: 'Session has ended', code: 'UNAUTHORIZED', reason: 'session_ended' })
  })

  it('asks for the session of the token’s own subject: a token naming another identity’s session is an invalid token', async () => {
    const attackers = crypto.randomUUID()
    await issue(8, 'mallory', attackers)
    const forged = await tokens.issuePair({ identityId: 7, sessionId: attackers }, tokens.newRefreshTokenId(), newIdentityClaims(0))
    const result = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${forged.access_token}` }))
    expect(statement(result).Effect).toBe('Deny')
    expect(result.context).toEqual({ error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' })
  })

  it('puts the login from the session store in the context, not anything the token says', async () => {
    const sessionId = crypto.randomUUID()
    activeSessions.set(`7:${sessionId}`, 'alice')
    const claims = { sub: '7', sid: sessionId, iss: getConfig().jwt.issuer, aud: getConfig().jwt.audience, login: 'admin' }
    const iat = Math.floor(Date.now() / 1000)
    const token = await forge({ ...claims, iat, exp: iat + 60, jti: crypto.randomUUID() }, {}, secret)
    const result = await handler(requestAuthorizerEvent({ Authorization: `Bearer ${token}` }))
    expect(result.context).toEqual({
      identityId: 7,
      login: 'alice',
      sessionId,
      roles: 'clerk',
      permissions: 'orders:read',
      ...PASSWORD_CONTEXT,
    })
  })
})

describe('authorizer decision (REST TOKEN event)', () => {
  it('allows a valid Bearer token', async () => {
    const { access_token } = await issue(9, 'bob')
    const result = await handler(tokenAuthorizerEvent(`Bearer ${access_token}`))
    expect(statement(result)).toEqual({
      Action: 'execute-api:Invoke',
      Effect: 'Allow',
      Resource: 'arn:aws:execute-api:us-west-2:123456789012:ymy8tbxw7b/*/*/*',
    })
    expect(result.context).toEqual({
      identityId: 9,
      login: 'bob',
      sessionId: SESSION_ID,
      roles: 'clerk',
      permissions: 'orders:read',
      ...PASSWORD_CONTEXT,
    })
  })

  it('denies the sample event’s literal "allow" token as missing a Bearer credential', async () => {
    const result = await handler(tokenAuthorizerEvent('allow'))
    expect(statement(result).Effect).toBe('Deny')
    expect(result.context).toEqual({ error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' })
  })
})
