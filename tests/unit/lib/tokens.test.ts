import { describe, expect, it } from 'vitest'
import { TokenError } from '../../../lib/tokens.js'
import { AUDIENCE, accessClaims, forge, ISSUER, NOW, pairFor, SESSION_ID, TEST_SECRET, testTokens, unsigned } from '../../support/tokens.js'

const alice = { identityId: 42, login: 'alice' }

const failure = async (promise: Promise<unknown>): Promise<string> => {
  try {
    await promise
  } catch (error) {
    if (error instanceof TokenError) return error.reason
    throw error
  }
  return 'accepted'
}

const decode = (token: string, part: 0 | 1): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[part] as string, 'base64url').toString('utf8'))

describe('token pair', () => {
  it('answers the seed’s shape: access, refresh, Bearer and expires_in in seconds', async () => {
    const pair = await pairFor(testTokens(), alice)
    expect(pair).toEqual({ access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 })
  })

  it('signs with HS256, typ at+jwt for access and refresh+jwt for refresh', async () => {
    const pair = await pairFor(testTokens(), alice)
    expect(decode(pair.access_token, 0)).toEqual({ alg: 'HS256', typ: 'at+jwt' })
    expect(decode(pair.refresh_token, 0)).toEqual({ alg: 'HS256', typ: 'refresh+jwt' })
  })

  it('carries sub, login, iat, exp, iss, aud and a unique jti', async () => {
    const pair = await pairFor(testTokens(), alice)
    const iat = Math.floor(NOW / 1000)
    const access = decode(pair.access_token, 1)
    expect(access).toEqual({
      sub: '42',
      login: 'alice',
      sid: SESSION_ID,
      iss: ISSUER,
      aud: AUDIENCE,
      iat,
      exp: iat + 3600,
      jti: expect.any(String),
    })
    expect(decode(pair.refresh_token, 1)).toMatchObject({ sub: '42', exp: iat + 604800 })
    expect(decode(pair.refresh_token, 1)['jti']).not.toBe(access['jti'])
  })

  it('verifies its own access token into the identity', async () => {
    const tokens = testTokens()
    const pair = await pairFor(tokens, alice)
    await expect(tokens.verifyAccessToken(pair.access_token)).resolves.toMatchObject({ identityId: 42, login: 'alice' })
    await expect(tokens.verifyRefreshToken(pair.refresh_token)).resolves.toMatchObject({ identityId: 42, login: 'alice' })
  })
})

describe('token verification refuses', () => {
  it('an access token presented as a refresh token, and the reverse', async () => {
    const tokens = testTokens()
    const pair = await pairFor(tokens, alice)
    expect(await failure(tokens.verifyRefreshToken(pair.access_token))).toBe('invalid')
    expect(await failure(tokens.verifyAccessToken(pair.refresh_token))).toBe('invalid')
  })

  it('an expired token, as expired', async () => {
    const pair = await pairFor(testTokens(), alice)
    const later = testTokens({ now: () => NOW + 3601_000 })
    expect(await failure(later.verifyAccessToken(pair.access_token))).toBe('expired')
  })

  it('a token whose exp is exactly now', async () => {
    const pair = await pairFor(testTokens(), alice)
    const atExpiry = testTokens({ now: () => NOW + 3600_000 })
    expect(await failure(atExpiry.verifyAccessToken(pair.access_token))).toBe('expired')
  })

  it('a token signed with another secret', async () => {
    const other = testTokens({ secret: new TextEncoder().encode('another-secret-of-at-least-32-bytes-long') })
    const pair = await pairFor(other, alice)
    expect(await failure(testTokens().verifyAccessToken(pair.access_token))).toBe('invalid')
  })

  it('alg none, in any letter case', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      expect(await failure(testTokens().verifyAccessToken(unsigned(accessClaims(), alg)))).toBe('invalid')
    }
  })

  it('HS512 when only HS256 is allowed', async () => {
    const token = await forge(accessClaims(), { alg: 'HS512' })
    expect(await failure(testTokens().verifyAccessToken(token))).toBe('invalid')
  })

  it('a tampered payload with the original signature', async () => {
    const pair = await pairFor(testTokens(), alice)
    const [header, , signature] = pair.access_token.split('.')
    const payload = Buffer.from(JSON.stringify(accessClaims({ sub: '1' }))).toString('base64url')
    expect(await failure(testTokens().verifyAccessToken(`${header}.${payload}.${signature}`))).toBe('invalid')
  })

  it('a token without exp, or with exp as a string', async () => {
    const { exp: _exp, ...noExp } = accessClaims()
    expect(await failure(testTokens().verifyAccessToken(await forge(noExp)))).toBe('invalid')
    expect(
      await failure(
        testTokens().verifyAccessToken(await forge(accessClaims({ exp: String(Math.floor(NOW / 1000) + 60) as unknown as number }))),
      ),
    ).toBe('invalid')
  })

  it('a wrong issuer or audience', async () => {
    expect(await failure(testTokens().verifyAccessToken(await forge(accessClaims({ iss: 'someone-else' }))))).toBe('invalid')
    expect(await failure(testTokens().verifyAccessToken(await forge(accessClaims({ aud: 'another-api' }))))).toBe('invalid')
  })

  it('a subject that is not a positive integer id', async () => {
    for (const sub of ['0', '-1', 'alice', '1e3', '9007199254740993123']) {
      expect(await failure(testTokens().verifyAccessToken(await forge(accessClaims({ sub }))))).toBe('invalid')
    }
  })

  it('a missing login claim', async () => {
    const { login: _login, ...noLogin } = accessClaims()
    expect(await failure(testTokens().verifyAccessToken(await forge(noLogin)))).toBe('invalid')
  })

  it('garbage, empty and oversized tokens without throwing anything else', async () => {
    const tokens = testTokens()
    for (const token of ['', 'garbage', 'a.b.c', 'a.b', '....', `${'a'.repeat(5000)}`]) {
      expect(await failure(tokens.verifyAccessToken(token))).toBe('invalid')
    }
  })

  it('a token signed before the secret rotated', async () => {
    const token = await forge(accessClaims(), {}, TEST_SECRET)
    const rotated = testTokens({ secret: new TextEncoder().encode('rotated-secret-with-at-least-32-bytes!!!') })
    expect(await failure(rotated.verifyAccessToken(token))).toBe('invalid')
  })
})

describe('secret rotation', () => {
  const previousSecret = new TextEncoder().encode('the-previous-secret-of-at-least-32-bytes')
  const current = new TextEncoder().encode('the-current-secret-of-at-least-32-bytes!')
  const until = NOW + 24 * 3600_000

  it('still verifies a token signed with the previous secret during the overlap', async () => {
    const old = await pairFor(testTokens({ secret: previousSecret }), alice)
    const rotated = testTokens({ secret: current, previousSecret, previousSecretUntil: until })
    await expect(rotated.verifyAccessToken(old.access_token)).resolves.toMatchObject({ identityId: 42 })
    await expect(rotated.verifyRefreshToken(old.refresh_token)).resolves.toMatchObject({ identityId: 42 })
  })

  it('refuses the previous secret once the overlap has ended', async () => {
    const old = await pairFor(testTokens({ secret: previousSecret, now: () => until - 1000 }), alice)
    const after = testTokens({ secret: current, previousSecret, previousSecretUntil: until, now: () => until })
    expect(await failure(after.verifyAccessToken(old.access_token))).toBe('invalid')
  })

  it('signs new tokens with the current secret only', async () => {
    const rotated = testTokens({ secret: current, previousSecret, previousSecretUntil: until })
    const pair = await pairFor(rotated, alice)
    expect(await failure(testTokens({ secret: previousSecret }).verifyAccessToken(pair.access_token))).toBe('invalid')
    await expect(testTokens({ secret: current }).verifyAccessToken(pair.access_token)).resolves.toMatchObject({ identityId: 42 })
  })

  it('does not let the previous secret rescue a token that fails for another reason', async () => {
    const old = await pairFor(testTokens({ secret: previousSecret }), alice)
    const rotatedLater = testTokens({ secret: current, previousSecret, previousSecretUntil: until, now: () => NOW + 3601_000 })
    expect(await failure(rotatedLater.verifyAccessToken(old.access_token))).toBe('expired')
  })
})
