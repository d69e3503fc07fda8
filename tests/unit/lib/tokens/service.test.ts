import { describe, expect, it } from 'vitest'
import type { VerifiedToken } from '../../../../lib/tokens/service.js'
import { newIdentityClaims, TokenError } from '../../../../lib/tokens/service.js'
import { createVerifiedTokenCache } from '../../../../lib/tokens/verified-tokens.js'
import {
  AUDIENCE,
  accessClaims,
  forge,
  ISSUER,
  NOW,
  pairFor,
  SESSION_ID,
  TEST_SECRET,
  testTokens,
  unsigned,
} from '../../../support/tokens.js'

const alice = { identityId: 42 }

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
  it('answers the documented shape: access, refresh, Bearer and expires_in in seconds', async () => {
    const pair = await pairFor(testTokens(), alice)
    expect(pair).toEqual({ access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 })
  })

  it('signs with HS256, typ at+jwt for access and refresh+jwt for refresh', async () => {
    const pair = await pairFor(testTokens(), alice)
    expect(decode(pair.access_token, 0)).toEqual({ alg: 'HS256', typ: 'at+jwt' })
    expect(decode(pair.refresh_token, 0)).toEqual({ alg: 'HS256', typ: 'refresh+jwt' })
  })

  it('carries ids, grants and assurance only: sub, sid, iat, exp, iss, aud, its own jti, scope, authz_ver, acr, amr, auth_time (no login, no display data)', async () => {
    const pair = await pairFor(testTokens(), alice)
    const iat = Math.floor(NOW / 1000)
    const access = decode(pair.access_token, 1)
    expect(access).toEqual({
      sub: '42',
      sid: SESSION_ID,
      iss: ISSUER,
      aud: AUDIENCE,
      iat,
      exp: iat + 3600,
      jti: expect.any(String),
      scope: '',
      authz_ver: 0,
      acr: 'aal1',
      amr: ['pwd'],
      auth_time: 0,
    })
    expect(decode(pair.refresh_token, 1)).toMatchObject({ sub: '42', exp: iat + 604800 })
    for (const claim of ['scope', 'acr', 'amr', 'auth_time']) expect(decode(pair.refresh_token, 1)).not.toHaveProperty(claim)
    expect(decode(pair.refresh_token, 1)['jti']).not.toBe(access['jti'])
  })

  it('issues the very same pair again for the same refresh token id: the grace window never mints a second access token', async () => {
    const tokens = testTokens()
    const refresh = tokens.newRefreshTokenId()
    const later = testTokens({ now: () => NOW + 4000 })
    const first = await tokens.issuePair({ identityId: 42, sessionId: SESSION_ID }, refresh, newIdentityClaims(0))
    expect(await later.issuePair({ identityId: 42, sessionId: SESSION_ID }, refresh, newIdentityClaims(0))).toEqual(first)
    const other = await tokens.issuePair({ identityId: 42, sessionId: SESSION_ID }, tokens.newRefreshTokenId(), newIdentityClaims(0))
    expect(decode(other.access_token, 1)['jti']).not.toBe(decode(first.access_token, 1)['jti'])
  })

  it('verifies its own access token into the identity', async () => {
    const tokens = testTokens()
    const pair = await pairFor(tokens, alice)
    await expect(tokens.verifyAccessToken(pair.access_token)).resolves.toMatchObject({ identityId: 42, sessionId: SESSION_ID })
    await expect(tokens.verifyRefreshToken(pair.refresh_token)).resolves.toMatchObject({ identityId: 42, sessionId: SESSION_ID })
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

  it('nothing on the strength of a login claim: a token carries ids, and a login in it is ignored', async () => {
    const verified = await testTokens().verifyAccessToken(await forge(accessClaims({ login: 'admin' })))
    expect(verified).not.toHaveProperty('login')
  })

  it('a correctly signed token issued in the future, or older than its lifetime, or whose exp is beyond iat + lifetime', async () => {
    const iat = Math.floor(NOW / 1000)
    const cases = {
      'iat in the future': accessClaims({ iat: iat + 60, exp: iat + 3660 }),
      'exp years away': accessClaims({ exp: iat + 10 * 365 * 86400 }),
      'exp one second beyond the lifetime': accessClaims({ iat: iat - 10, exp: iat - 10 + 3601 }),
      'iat older than the lifetime, exp still ahead': accessClaims({ iat: iat - 3700, exp: iat + 100 }),
    }
    for (const [why, claims] of Object.entries(cases)) {
      expect(await failure(testTokens().verifyAccessToken(await forge(claims))), why).not.toBe('accepted')
    }
    const refresh = accessClaims({ exp: iat + 604801 })
    expect(await failure(testTokens().verifyRefreshToken(await forge(refresh, { typ: 'refresh+jwt' })))).toBe('invalid')
  })

  it('any spelling but the canonical compact form: padding, whitespace, other characters, non-canonical last bits', async () => {
    const { access_token } = await pairFor(testTokens(), alice)
    const [header, payload, signature] = access_token.split('.') as [string, string, string]
    // The last character of a 32-byte signature carries 2 unused bits: flipping one still decodes to the same bytes.
    const last = signature.at(-1) as string
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const sibling = alphabet[alphabet.indexOf(last) ^ 1] as string
    expect(Buffer.from(`${signature.slice(0, -1)}${sibling}`, 'base64url')).toEqual(Buffer.from(signature, 'base64url'))
    const variants = [
      `${header}.${payload}.${signature.slice(0, -1)}${sibling}`,
      `${header}.${payload}.${signature}=`,
      `${header}=.${payload}.${signature}`,
      `${header}.${payload} .${signature}`,
      ` ${access_token}`,
      `${access_token}\n`,
      `${header}.${payload}.${signature.replace(/-/g, '+').replace(/_/g, '/')}+`,
      `${header}.${payload}.${signature}.`,
    ]
    for (const variant of variants) expect(await failure(testTokens().verifyAccessToken(variant)), variant).toBe('invalid')
    expect(await failure(testTokens().verifyAccessToken(access_token))).toBe('accepted')
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

describe('verified access tokens, remembered by the service', () => {
  const previousSecret = new TextEncoder().encode('the-previous-secret-of-at-least-32-bytes')
  const current = new TextEncoder().encode('the-current-secret-of-at-least-32-bytes!')

  /** A service on a clock the test moves, with its cache in view. */
  function remembering(options: { secret?: Uint8Array; previousSecret?: Uint8Array; previousSecretUntil?: number } = {}) {
    const clock = { now: NOW }
    const cache = createVerifiedTokenCache<VerifiedToken>({ maxEntries: 10, now: () => clock.now })
    const tokens = testTokens({ ...options, now: () => clock.now, accessTokenCache: cache })
    return { tokens, cache, clock }
  }

  const flip = (token: string, segment: number, at = 5): string => {
    const parts = token.split('.')
    const bytes = Buffer.from(parts[segment] as string, 'base64url')
    bytes[at] = (bytes[at] as number) ^ 0x01
    parts[segment] = bytes.toString('base64url')
    return parts.join('.')
  }

  it('answers a verified access token again with the same claims, from one entry', async () => {
    const { tokens, cache } = remembering()
    const pair = await pairFor(tokens, alice)
    const first = await tokens.verifyAccessToken(pair.access_token)
    expect(cache.size).toBe(1)
    expect(await tokens.verifyAccessToken(pair.access_token)).toEqual(first)
    expect(cache.size).toBe(1)
  })

  it('refuses a remembered token as expired from its exp on', async () => {
    const { tokens, clock } = remembering()
    const pair = await pairFor(tokens, alice)
    await tokens.verifyAccessToken(pair.access_token)
    clock.now = NOW + 3599_999
    await expect(tokens.verifyAccessToken(pair.access_token)).resolves.toMatchObject({ identityId: 42 })
    clock.now = NOW + 3600_000
    expect(await failure(tokens.verifyAccessToken(pair.access_token))).toBe('expired')
  })

  it('refuses a remembered token of the previous secret once the overlap ends, before the token expires', async () => {
    const until = NOW + 600_000
    const old = await pairFor(testTokens({ secret: previousSecret }), alice)
    const { tokens, clock } = remembering({ secret: current, previousSecret, previousSecretUntil: until })
    await expect(tokens.verifyAccessToken(old.access_token)).resolves.toMatchObject({ identityId: 42 })
    clock.now = until - 1
    await expect(tokens.verifyAccessToken(old.access_token)).resolves.toMatchObject({ identityId: 42 })
    clock.now = until
    expect(await failure(tokens.verifyAccessToken(old.access_token))).toBe('invalid')
  })

  it('refuses every tampered copy of a remembered token, and remembers none of them', async () => {
    const { tokens, cache } = remembering()
    const pair = await pairFor(tokens, alice)
    await tokens.verifyAccessToken(pair.access_token)
    const payload = JSON.parse(Buffer.from(pair.access_token.split('.')[1] as string, 'base64url').toString('utf8'))
    const attacks = [
      flip(pair.access_token, 0),
      flip(pair.access_token, 1),
      flip(pair.access_token, 2),
      `${pair.access_token}A`,
      ` ${pair.access_token}`,
      pair.access_token.replace(/\.[^.]+$/, '.'),
      unsigned(payload),
      await forge({ ...payload, sub: '1' }, {}, new TextEncoder().encode('an-attacker-chosen-secret-of-32-bytes!!')),
    ]
    for (const attack of attacks)
      expect({ attack, result: await failure(tokens.verifyAccessToken(attack)) }).toEqual({ attack, result: 'invalid' })
    expect(cache.size).toBe(1)
    await expect(tokens.verifyAccessToken(pair.access_token)).resolves.toMatchObject({ identityId: 42 })
  })

  it('never answers across secrets: a token one service remembers is refused by a service with another secret', async () => {
    const first = testTokens()
    const pair = await pairFor(first, alice)
    await first.verifyAccessToken(pair.access_token)
    const other = testTokens({ secret: current })
    expect(await failure(other.verifyAccessToken(pair.access_token))).toBe('invalid')
  })

  it('does not remember refresh tokens, which are verified in full at every use', async () => {
    const { tokens, cache } = remembering()
    const pair = await pairFor(tokens, alice)
    await tokens.verifyRefreshToken(pair.refresh_token)
    expect(cache.size).toBe(0)
    expect(await failure(tokens.verifyAccessToken(pair.refresh_token))).toBe('invalid')
    expect(cache.size).toBe(0)
  })

  it('still refuses an oversized token before looking it up', async () => {
    const { tokens } = remembering()
    expect(await failure(tokens.verifyAccessToken('x'.repeat(5000)))).toBe('invalid')
  })
})
