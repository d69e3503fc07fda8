import { describe, expect, it } from 'vitest'
import { api } from '../../support/api.js'

describe('discovery endpoints (default HS256)', () => {
  it('publishes an empty JWK Set, unwrapped and cacheable, since the HS256 key is secret', async () => {
    const res = await api.jwks()
    expect(res).toMatchObject({ status: 200, body: { keys: [] } })
    expect(res.headers['Cache-Control']).toBe('public, max-age=300')
    expect(res.headers['Pragma']).toBeUndefined()
  })

  it('answers issuer and a jwks_uri on the request’s host and stage', async () => {
    const res = await api.openIdConfiguration()
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({
      issuer: 'attune-auth',
      jwks_uri: 'https://gy415nuibc.execute-api.us-east-1.amazonaws.com/testStage/.well-known/jwks.json',
      id_token_signing_alg_values_supported: ['HS256'],
    })
  })
})
