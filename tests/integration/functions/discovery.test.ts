import { describe, expect, it } from 'vitest'
import { handler as openIdHandler } from '../../../functions/openid-configuration.js'
import { getConfig } from '../../../lib/config.js'
import { openIdConfiguration } from '../../../lib/tokens/discovery.js'
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
  const config = getConfig()
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
