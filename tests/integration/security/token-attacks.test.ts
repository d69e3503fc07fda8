/**
 * The attack suite: every forged, tampered or misused token is refused by the authorizer (GET /auth/me
 * through API Gateway's path) and by POST /auth/refresh. Each case starts from a token that would be
 * accepted — a live session, the real secret, current claims — and changes one thing.
 */

import type { KeyObject } from 'node:crypto'
import { createHmac, generateKeyPairSync, randomUUID } from 'node:crypto'
import type { JWTHeaderParameters, JWTPayload } from 'jose'
import { exportJWK, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { api, registerUser } from '../../support/api.js'

type Kind = 'access' | 'refresh'
const TYP: Record<Kind, string> = { access: 'at+jwt', refresh: 'refresh+jwt' }

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const decode = (token: string, part: number): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[part] ?? '', 'base64url').toString())
const attacker = new TextEncoder().encode('an-attacker-chosen-secret-of-32-bytes!!')

function sign(payload: JWTPayload, header: Record<string, unknown>, key: Uint8Array | KeyObject): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(header as JWTHeaderParameters).sign(key as Uint8Array)
}

/** HS256 by hand, for headers jose itself refuses to produce (an unknown `crit`). */
function hs256(header: Record<string, unknown>, payload: JWTPayload, secret: Uint8Array): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

function flipBit(token: string, segment: number): string {
  const parts = token.split('.')
  const bytes = Buffer.from(parts[segment] ?? '', 'base64url')
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01
  parts[segment] = bytes.toString('base64url')
  return parts.join('.')
}

/** Every attack on a token of `kind`, built from a valid token of that kind. */
async function attacks(kind: Kind, valid: string): Promise<Array<[string, string]>> {
  const secret = getApp().config.jwt.secret
  const claims = decode(valid, 1) as JWTPayload
  const typ = TYP[kind]
  const other: Kind = kind === 'access' ? 'refresh' : 'access'
  const now = Math.floor(Date.now() / 1000)
  const with_ = (changes: JWTPayload, header: Record<string, unknown> = {}) =>
    sign({ ...claims, ...changes }, { alg: 'HS256', typ, ...header }, secret)
  const without = (claim: string) => {
    const { [claim]: _, ...rest } = claims
    return sign(rest, { alg: 'HS256', typ }, secret)
  }
  const [header, payload] = valid.split('.')
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
  const attackerJwk = await exportJWK(attacker)

  return [
    ...['none', 'None', 'NONE', 'nOnE'].map((alg): [string, string] => [`alg ${alg}`, `${b64({ alg, typ })}.${payload}.`]),
    ['alg none with the original signature', `${b64({ alg: 'none', typ })}.${payload}.${valid.split('.')[2]}`],
    ['an empty signature', `${header}.${payload}.`],
    ['HS384 with the real secret', await sign(claims, { alg: 'HS384', typ }, secret)],
    ['HS512 with the real secret', await sign(claims, { alg: 'HS512', typ }, secret)],
    ['RS256 with an attacker key pair', await sign(claims, { alg: 'RS256', typ }, rsa.privateKey)],
    [
      'HS256 keyed with an RSA public key (key confusion)',
      await sign(claims, { alg: 'HS256', typ }, new TextEncoder().encode(rsaPublicPem)),
    ],
    ['another secret', await sign(claims, { alg: 'HS256', typ }, attacker)],
    ['one flipped bit in the header', flipBit(valid, 0)],
    ['one flipped bit in the payload', flipBit(valid, 1)],
    ['one flipped bit in the signature', flipBit(valid, 2)],
    ['expired', await with_({ iat: now - 7200, exp: now - 3600 })],
    ['exp equal to now', await with_({ iat: now - 60, exp: now })],
    ['nbf in the future', await with_({ nbf: now + 3600 })],
    ['no exp', await without('exp')],
    ['no sub', await without('sub')],
    ['no jti', await without('jti')],
    ['no sid', await without('sid')],
    ['exp as a string', await with_({ exp: String(now + 3600) as unknown as number })],
    ['sub as a number', await with_({ sub: Number(claims.sub) as unknown as string })],
    ['a wrong issuer', await with_({ iss: 'https://evil.example' })],
    ['a wrong audience', await with_({ aud: 'another-api' })],
    ['an array-valued issuer', await with_({ iss: [claims.iss as string, 'x'] as unknown as string })],
    ['an array-valued subject', await with_({ sub: [claims.sub as string] as unknown as string })],
    [`a ${other} token's typ`, await with_({}, { typ: TYP[other] })],
    ['no typ', await sign(claims, { alg: 'HS256' }, secret)],
    ['typ JWT', await with_({}, { typ: 'JWT' })],
    ['kid pointing at an attacker key', await sign(claims, { alg: 'HS256', typ, kid: '../../attacker' }, attacker)],
    ['jku pointing at an attacker key set', await sign(claims, { alg: 'HS256', typ, jku: 'https://evil.example/jwks.json' }, attacker)],
    ['x5u pointing at an attacker certificate', await sign(claims, { alg: 'HS256', typ, x5u: 'https://evil.example/cert.pem' }, attacker)],
    ['an embedded attacker jwk', await sign(claims, { alg: 'HS256', typ, jwk: attackerJwk }, attacker)],
    ['an unknown crit header', hs256({ alg: 'HS256', typ, crit: ['x-attack'], 'x-attack': true }, claims, secret)],
    ['an oversized token', await with_({ padding: 'x'.repeat(5000) })],
    ['non-base64url garbage', '!!!.@@@.###'],
    ['two segments', `${header}.${payload}`],
    ['four segments', `${valid}.${header}`],
    ['an empty string', ''],
  ]
}

let user: Awaited<ReturnType<typeof registerUser>>

beforeAll(async () => {
  user = await registerUser()
})

describe('the authorizer refuses', () => {
  it('nothing it should accept: the untampered access token passes (control)', async () => {
    expect((await api.me(user.tokens.access_token)).status).toBe(200)
  })

  it('every attack on an access token, with 401 and the documented error shape, while the real one is remembered', async () => {
    // The untampered token was just allowed, so this container's authorizer remembers it (lib/tokens/verified-tokens.ts).
    expect((await api.me(user.tokens.access_token)).status).toBe(200)
    const cases = await attacks('access', user.tokens.access_token)
    expect(cases.length).toBeGreaterThan(35)
    for (const [name, token] of cases) {
      const res = await api.me(token)
      expect({ name, status: res.status, code: res.body.code }).toEqual({ name, status: 401, code: 'UNAUTHORIZED' })
      expect(res.headers['WWW-Authenticate'], name).toBe('Bearer realm="attune-auth"')
    }
  })

  it('nothing else in the crit case: the same hand-signed token without crit passes (control)', async () => {
    const claims = decode(user.tokens.access_token, 1) as JWTPayload
    const token = hs256({ alg: 'HS256', typ: 'at+jwt' }, claims, getApp().config.jwt.secret)
    expect((await api.me(token)).status).toBe(200)
  })

  it('a refresh token used as an access token', async () => {
    expect((await api.me(user.tokens.refresh_token)).body).toEqual({
      error: 'Invalid authentication token',
      code: 'UNAUTHORIZED',
      reason: 'token_invalid',
    })
  })

  it('"Bearer" without a token, with "Missing authentication token"', async () => {
    expect((await api.me('')).body).toEqual({ error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' })
  })

  it('the token of an ended session, though it was allowed (and remembered) a moment before', async () => {
    const other = await registerUser()
    expect((await api.me(other.tokens.access_token)).status).toBe(200)
    await api.logout(other.tokens.access_token)
    expect((await api.me(other.tokens.access_token)).body).toEqual({
      error: 'Session has ended',
      code: 'UNAUTHORIZED',
      reason: 'session_ended',
    })
  })
})

describe('POST /auth/refresh refuses', () => {
  it('every attack on a refresh token, with 401', async () => {
    const victim = await registerUser()
    const cases = await attacks('refresh', victim.tokens.refresh_token)
    for (const [name, token] of cases) {
      const res = await api.refresh({ refresh_token: token })
      expect({ name, status: res.status }).toEqual({
        name,
        status: name === 'an empty string' || name === 'an oversized token' ? 400 : 401,
      })
    }
    // None of them counted as a use of the real token: it still refreshes, once.
    expect((await api.refresh({ refresh_token: victim.tokens.refresh_token })).status).toBe(200)
  })

  it('an access token used as a refresh token', async () => {
    expect((await api.refresh({ refresh_token: user.tokens.access_token })).body).toEqual({
      error: 'Invalid refresh token',
      code: 'UNAUTHORIZED',
      reason: 'refresh_token_invalid',
    })
  })

  it('a refresh token forged for a session id that does not exist', async () => {
    const claims = decode(user.tokens.refresh_token, 1) as JWTPayload
    const forged = await sign({ ...claims, sid: randomUUID() }, { alg: 'HS256', typ: 'refresh+jwt' }, getApp().config.jwt.secret)
    expect((await api.refresh({ refresh_token: forged })).body).toEqual({
      error: 'Invalid refresh token',
      code: 'UNAUTHORIZED',
      reason: 'refresh_token_invalid',
    })
  })
})
