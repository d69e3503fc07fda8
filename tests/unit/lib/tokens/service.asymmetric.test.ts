import type { KeyObject } from 'node:crypto'
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import jsonwebtoken from 'jsonwebtoken'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../../lib/config.js'
import { createTokenService, newIdentityClaims, TokenError } from '../../../../lib/tokens/service.js'
import { AUDIENCE, accessClaims, forge, ISSUER, NOW, SESSION_ID, TEST_SECRET } from '../../../support/tokens.js'

const alice = { identityId: 42, sessionId: SESSION_ID }
const ec = () => generateKeyPairSync('ec', { namedCurve: 'P-256' })
const rsa = () => generateKeyPairSync('rsa', { modulusLength: 2048 })

function service(
  algorithm: 'ES256' | 'RS256',
  privateKey: KeyObject,
  options: { previousPublicKey?: KeyObject; until?: number; now?: number; clock?: () => number } = {},
) {
  return createTokenService({
    secret: TEST_SECRET,
    asymmetric: { algorithm, privateKey, previousPublicKey: options.previousPublicKey },
    previousSecretUntil: options.until,
    accessExpiration: 3600,
    refreshExpiration: 604800,
    issuer: ISSUER,
    audience: AUDIENCE,
    now: options.clock ?? (() => options.now ?? NOW),
  })
}

const reason = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof TokenError ? e.reason : String(e)),
  )

describe.each([
  ['ES256', ec],
  ['RS256', rsa],
] as const)('%s signing', (algorithm, keyPair) => {
  it('puts the key’s RFC 7638 thumbprint in kid and publishes the public key as a JWK', async () => {
    const tokens = service(algorithm, keyPair().privateKey)
    const { access_token } = await tokens.issuePair(alice, tokens.newRefreshTokenId(), newIdentityClaims(0))
    const { keys } = await tokens.jwks()
    expect(keys).toHaveLength(1)
    expect(decodeProtectedHeader(access_token)).toEqual({ alg: algorithm, typ: 'at+jwt', kid: keys[0]?.kid })
    expect(keys[0]).toMatchObject({ alg: algorithm, use: 'sig' })
    expect(JSON.stringify(keys)).not.toMatch(/"d":|"p":|"q":/) // no private parts
  })

  it('issues access tokens that verify with nothing but the published JWKS (jose)', async () => {
    const tokens = service(algorithm, keyPair().privateKey)
    const { access_token } = await tokens.issuePair(alice, tokens.newRefreshTokenId(), newIdentityClaims(0))
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(await tokens.jwks()), {
      issuer: ISSUER,
      audience: AUDIENCE,
      currentDate: new Date(NOW),
    })
    expect(payload).toMatchObject({ sub: '42', sid: SESSION_ID })
  })

  it('issues access tokens that an independent JWT library (jsonwebtoken) verifies from the JWKS alone', async () => {
    const tokens = service(algorithm, keyPair().privateKey)
    const { access_token } = await tokens.issuePair(alice, tokens.newRefreshTokenId(), newIdentityClaims(0))
    const { keys } = await tokens.jwks()
    const { kid } = decodeProtectedHeader(access_token)
    const jwk = keys.find((k) => k.kid === kid)
    const pemKey = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' }).export({
      type: 'spki',
      format: 'pem',
    }) as string
    const claims = jsonwebtoken.verify(access_token, pemKey, {
      algorithms: [algorithm],
      issuer: ISSUER,
      audience: AUDIENCE,
      clockTimestamp: NOW / 1000,
    })
    expect(claims).toMatchObject({ sub: '42', sid: SESSION_ID })
  })

  it('issues access tokens whose signature Node’s own crypto verifies from the JWK alone (no JWT library)', async () => {
    const tokens = service(algorithm, keyPair().privateKey)
    const { access_token } = await tokens.issuePair(alice, tokens.newRefreshTokenId(), newIdentityClaims(0))
    const [jwk] = (await tokens.jwks()).keys
    const [header, payload, signature] = access_token.split('.') as [string, string, string]
    const key = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    const ok = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      algorithm === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
      Buffer.from(signature, 'base64url'),
    )
    expect(ok).toBe(true)
  })

  it('verifies its own tokens and refuses another key pair’s, an unknown kid, and HS256 (algorithm confusion)', async () => {
    const tokens = service(algorithm, keyPair().privateKey)
    const pair = await tokens.issuePair(alice, tokens.newRefreshTokenId(), newIdentityClaims(0))
    await expect(tokens.verifyAccessToken(pair.access_token)).resolves.toMatchObject({ identityId: 42 })
    await expect(tokens.verifyRefreshToken(pair.refresh_token)).resolves.toMatchObject({ identityId: 42 })
    const stranger = service(algorithm, keyPair().privateKey)
    const foreign = await stranger.issuePair(alice, stranger.newRefreshTokenId(), newIdentityClaims(0))
    expect(await reason(tokens.verifyAccessToken(foreign.access_token))).toBe('invalid')
    const kid = decodeProtectedHeader(pair.access_token).kid as string
    expect(await reason(tokens.verifyAccessToken(await forge(accessClaims(), { kid })))).toBe('invalid')
    expect(await reason(tokens.verifyAccessToken(await forge(accessClaims())))).toBe('invalid')
  })

  it('publishes and accepts the previous key during a rotation, and neither after it', async () => {
    const old = keyPair()
    const until = NOW + 3600_000
    const before = service(algorithm, old.privateKey)
    const oldPair = await before.issuePair(alice, before.newRefreshTokenId(), newIdentityClaims(0))
    const during = service(algorithm, keyPair().privateKey, { previousPublicKey: old.publicKey, until })
    expect((await during.jwks()).keys).toHaveLength(2)
    await expect(during.verifyAccessToken(oldPair.access_token)).resolves.toMatchObject({ identityId: 42 })
    const after = service(algorithm, keyPair().privateKey, { previousPublicKey: old.publicKey, until, now: until })
    expect((await after.jwks()).keys).toHaveLength(1)
    expect(await reason(after.verifyAccessToken(oldPair.access_token))).toBe('invalid')
  })

  it('stops answering a remembered token of the previous key when the rotation ends, though the token lives on', async () => {
    const old = keyPair()
    const until = NOW + 600_000
    const before = service(algorithm, old.privateKey)
    const oldPair = await before.issuePair(alice, before.newRefreshTokenId(), newIdentityClaims(0))
    const clock = { now: NOW }
    const tokens = service(algorithm, keyPair().privateKey, { previousPublicKey: old.publicKey, until, clock: () => clock.now })
    await expect(tokens.verifyAccessToken(oldPair.access_token)).resolves.toMatchObject({ identityId: 42 })
    clock.now = until - 1
    await expect(tokens.verifyAccessToken(oldPair.access_token)).resolves.toMatchObject({ identityId: 42 })
    clock.now = until
    expect(await reason(tokens.verifyAccessToken(oldPair.access_token))).toBe('invalid')
  })
})

describe('ES256 signature form', () => {
  const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n
  const sOf = (token: string): bigint =>
    BigInt(
      `0x${Buffer.from(token.split('.')[2] as string, 'base64url')
        .subarray(32)
        .toString('hex')}`,
    )
  /** The same token with its signature's S replaced by n - S: an equally valid ECDSA signature of the same bytes. */
  const flipS = (token: string): string => {
    const [header, payload, signature] = token.split('.') as [string, string, string]
    const bytes = Buffer.from(signature, 'base64url')
    const flipped = Buffer.from((P256_ORDER - sOf(token)).toString(16).padStart(64, '0'), 'hex')
    return `${header}.${payload}.${Buffer.concat([bytes.subarray(0, 32), flipped]).toString('base64url')}`
  }

  it('issues only low-S signatures, and refuses the high-S twin of a valid token though its signature is valid', async () => {
    const { privateKey, publicKey } = ec()
    const tokens = service('ES256', privateKey)
    for (let i = 0; i < 40; i++) {
      const { access_token } = await tokens.issuePair(alice, tokens.newRefreshTokenId(), newIdentityClaims(0))
      expect(sOf(access_token) <= P256_ORDER >> 1n).toBe(true)
      const twin = flipS(access_token)
      const [header, payload, signature] = twin.split('.') as [string, string, string]
      // The twin is a valid ECDSA signature (Node's crypto agrees): only the low-S rule refuses it.
      expect(
        verify(
          'sha256',
          Buffer.from(`${header}.${payload}`),
          { key: publicKey, dsaEncoding: 'ieee-p1363' },
          Buffer.from(signature, 'base64url'),
        ),
      ).toBe(true)
      expect(await reason(tokens.verifyAccessToken(twin))).toBe('invalid')
      expect(await reason(tokens.verifyAccessToken(access_token))).toBe('accepted')
    }
  })
})

describe('asymmetric configuration', () => {
  const DATABASE_URL = 'postgres://u:p@127.0.0.1:5432/attune'
  const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string

  it('reads an ES256 private key (with \\n escapes, as a one-line secret) and needs no JWT_SECRET in production', () => {
    const oneLine = pem(ec().privateKey).replace(/\n/g, '\\n')
    const config = loadConfig({
      DATABASE_URL,
      STAGE: 'prod',
      PSEUDONYM_KEY: process.env['PSEUDONYM_KEY'],
      MFA_ENCRYPTION_KEYS: process.env['MFA_ENCRYPTION_KEYS'],
      EMAIL_FROM: process.env['EMAIL_FROM'],
      PASSWORD_RESET_URL: process.env['PASSWORD_RESET_URL'],
      EMAIL_VERIFY_URL: process.env['EMAIL_VERIFY_URL'],
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY: oneLine,
    })
    expect(config.jwt.asymmetric?.algorithm).toBe('ES256')
  })

  it('refuses a key that does not fit the algorithm, or no key', () => {
    expect(() => loadConfig({ DATABASE_URL, JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: pem(rsa().privateKey) })).toThrow(/EC P-256/)
    expect(() => loadConfig({ DATABASE_URL, JWT_ALGORITHM: 'RS256' })).toThrow(/JWT_PRIVATE_KEY/)
    expect(() => loadConfig({ DATABASE_URL, JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: 'not a key' })).toThrow(/not a readable PEM/)
  })

  it('refuses a small RSA key', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey
    expect(() => loadConfig({ DATABASE_URL, JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: pem(small) })).toThrow(/at least 2048/)
  })
})
