import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { api, registerUser } from '../../support/api.js'

describe('GET /auth/me', () => {
  it('answers {id, login, display_name}, and email and email_verified beside them, with id a JSON number', async () => {
    const { tokens, identityId, login } = await registerUser({ display_name: 'John Doe' })
    const res = await api.me(tokens.access_token)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: { id: identityId, login, display_name: 'John Doe', email: null, email_verified: false, roles: [], permissions: [] },
    })
    expect(typeof res.body.data.id).toBe('number')
  })

  it('answers 401 "Missing authentication token" with a Bearer challenge without an Authorization header', async () => {
    const res = await api.me(undefined)
    expect(res).toMatchObject({
      status: 401,
      body: { error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' },
    })
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="attune-auth"')
  })

  it('answers 401 "Invalid authentication token" for a garbage token', async () => {
    const res = await api.me('garbage')
    expect(res).toMatchObject({
      status: 401,
      body: { error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' },
    })
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="attune-auth"')
  })

  it('answers 401 "Invalid authentication token" once the identity is deleted: its sessions go with it', async () => {
    const { tokens, identityId } = await registerUser()
    await getApp().sql`delete from attune.identity where id = ${identityId}`
    expect(await api.me(tokens.access_token)).toMatchObject({
      status: 401,
      body: { error: 'Invalid authentication token', code: 'UNAUTHORIZED', reason: 'token_invalid' },
    })
  })
})
