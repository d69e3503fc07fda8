import { describe, expect, it } from 'vitest'
import { api, registerUser } from '../../support/api.js'

describe('POST /auth/change-password', () => {
  it('answers the documented success body, after which only the new password logs in', async () => {
    const { tokens, login, password } = await registerUser()
    const res = await api.changePassword(tokens.access_token, { current_password: password, new_password: 'newpass456789' })
    expect(res).toMatchObject({ status: 200, body: { data: { success: true, message: 'Password changed successfully' } } })
    expect((await api.login({ login, password: 'newpass456789' })).status).toBe(200)
    expect((await api.login({ login, password })).status).toBe(401)
  })

  it('answers 401 for a wrong current password and keeps the old one', async () => {
    const { tokens, login, password } = await registerUser()
    const res = await api.changePassword(tokens.access_token, { current_password: 'not-my-password', new_password: 'newpass456789' })
    expect(res).toMatchObject({
      status: 401,
      body: { error: 'Current password is incorrect', code: 'UNAUTHORIZED', reason: 'invalid_current_password' },
    })
    expect((await api.login({ login, password })).status).toBe(200)
  })

  it('answers 400 for a new password under 8 characters', async () => {
    const { tokens, password } = await registerUser()
    const res = await api.changePassword(tokens.access_token, { current_password: password, new_password: 'short' })
    expect(res).toMatchObject({
      status: 400,
      body: { error: 'new_password must be at least 8 characters', code: 'BAD_REQUEST', reason: 'invalid_field' },
    })
  })

  it('answers 400 for missing fields', async () => {
    const { tokens } = await registerUser()
    expect((await api.changePassword(tokens.access_token, { new_password: 'newpass456789' })).body).toEqual({
      error: 'current_password is required',
      code: 'BAD_REQUEST',
      reason: 'invalid_field',
    })
  })

  it('answers 401 without the authorizer context, before looking at the body', async () => {
    const res = await api.changePassword(undefined, { current_password: 'x', new_password: 'y' })
    expect(res).toMatchObject({
      status: 401,
      body: { error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' },
    })
  })
})
