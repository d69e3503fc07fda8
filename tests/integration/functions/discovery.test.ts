import { generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { handler as openIdHandler } from '../../../functions/openid-configuration.js'
import { getPublicConfig, loadPublicConfig } from '../../../lib/config.js'
import { openIdConfiguration, publicJwks } from '../../../lib/tokens/discovery.js'
import { api } from '../../support/api.js'
import { invoke, restEvent } from '../../support/events.js'

describe('discovery endpoints (default HS256)', () => {
  it('publishes an empty JWK Set, unwrapped and cacheable, since the HS256 key is secret', async () => {
    const res = await api.jwks()
    expect(res).toMatchObject({ status: 200, body: { keys: [] } })
    expect(res.headers['Cache-Control']).toBe('public, max-age=300')
    expect(res.headers['Pragma']).toBeUndefined()
  })

  it('publishes no OpenID configuration outside stage local while JWT_ISSUER is not an https URL (404, not cacheable)', async () => {
    const res = await api.openIdConfiguration()
    expect(res).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } })
    expect(res.headers['Cache-Control']).toBe('no-store')
  })

  it('never builds a URL from the request: Host and X-Forwarded-Proto are ignored', async () => {
    const event = restEvent({
      method: 'GET',
      path: '/.well-known/openid-configuration',
      headers: { Host: 'evil.example', 'X-Forwarded-Proto': 'javascript' },
    })
    const res = await invoke(openIdHandler, event)
    expect(JSON.stringify(res.body)).not.toMatch(/evil\.example|javascript/)
  })
})

describe('openIdConfiguration', () => {
  const config = getPublicConfig()
  const withIssuer = (issuer: string, production = true) => ({ production, jwt: { ...config.jwt, issuer } })

  it('builds jwks_uri and token_endpoint under an https issuer', () => {
    expect(openIdConfiguration(withIssuer('https://auth.example.com/prod/'))).toMatchObject({
      issuer: 'https://auth.example.com/prod/',
      jwks_uri: 'https://auth.example.com/prod/.well-known/jwks.json',
      token_endpoint: 'https://auth.example.com/prod/auth/login',
    })
  })

  it('refuses an http or non-URL issuer outside stage local, and accepts http on local only', () => {
    for (const issuer of ['http://auth.example.com', 'attune-auth', 'javascript://evil.example', 'https://', 'https://a b']) {
      expect(() => openIdConfiguration(withIssuer(issuer)), issuer).toThrow(/not published/)
    }
    expect(openIdConfiguration(withIssuer('http://localhost:8080', false)).jwks_uri).toBe('http://localhost:8080/.well-known/jwks.json')
    expect(() => openIdConfiguration(withIssuer('attune-auth', false))).toThrow(/not published/)
  })
})

describe('the public discovery functions read no secret', () => {
  const pair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const pemOf = (key: { export: (o: { type: 'spki' | 'pkcs8'; format: 'pem' }) => string | Buffer }, type: 'spki' | 'pkcs8') =>
    String(key.export({ type, format: 'pem' }))

  it('publish ES256 keys from JWT_PUBLIC_KEY alone, with no private key, secret or SSM anywhere', async () => {
    const current = pair()
    const previous = pair()
    const until = Date.now() + 3_600_000
    const config = loadPublicConfig({
      STAGE: 'prod',
      JWT_ALGORITHM: 'ES256',
      JWT_PUBLIC_KEY: pemOf(current.publicKey, 'spki'),
      JWT_PREVIOUS_PUBLIC_KEY: pemOf(previous.publicKey, 'spki'),
      JWT_PREVIOUS_SECRET_UNTIL: new Date(until).toISOString(),
    })
    const { keys } = await publicJwks(config.jwt, until - 1)
    expect(keys.map((key) => [key.kty, key.crv, key.alg, key.use])).toEqual([
      ['EC', 'P-256', 'ES256', 'sig'],
      ['EC', 'P-256', 'ES256', 'sig'],
    ])
    expect(keys.some((key) => 'd' in key)).toBe(false)
    // Once the overlap ends, only the current key.
    expect((await publicJwks(config.jwt, until)).keys).toHaveLength(1)
  })

  it('fail closed without a public key for ES256/RS256, and take the private key’s public half where it is in the environment', () => {
    expect(() => loadPublicConfig({ STAGE: 'prod', JWT_ALGORITHM: 'ES256' })).toThrow(/JWT_PUBLIC_KEY/)
    const { privateKey, publicKey } = pair()
    const config = loadPublicConfig({ STAGE: 'local', JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: pemOf(privateKey, 'pkcs8') })
    expect(config.jwt.publicKey?.export({ type: 'spki', format: 'der' })).toEqual(publicKey.export({ type: 'spki', format: 'der' }))
  })

  it('answer without asking SSM even with SECRETS_PATH set and no credentials (their role may not read it)', async () => {
    const saved = process.env['SECRETS_PATH']
    process.env['SECRETS_PATH'] = '/attune-auth/nowhere'
    try {
      expect((await api.jwks()).status).toBe(200)
    } finally {
      if (saved === undefined) delete process.env['SECRETS_PATH']
      else process.env['SECRETS_PATH'] = saved
    }
  })
})
