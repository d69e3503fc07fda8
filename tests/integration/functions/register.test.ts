import { describe, expect, it } from 'vitest'
import { handler } from '../../../functions/register.js'
import { invoke, restEvent, uniqueLogin } from '../../support/events.js'

const register = (body: unknown) => invoke(handler, restEvent({ method: 'POST', path: '/auth/register', body }))

describe('POST /auth/register', () => {
  it('answers a Bearer token pair in the data envelope', async () => {
    const res = await register({ login: uniqueLogin(), password: 'securepassword123', display_name: 'John Doe' })
    expect(res.status).toBe(200)
    expect(Object.keys(res.body)).toEqual(['data'])
    expect(res.body.data).toEqual({
      access_token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/),
      refresh_token: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/),
      token_type: 'Bearer',
      expires_in: 3600,
    })
  })
})
