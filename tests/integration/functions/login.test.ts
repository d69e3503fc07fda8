import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { api, registerUser, TOKEN_PAIR } from '../../support/api.js'
import { uniqueLogin } from '../../support/events.js'
import { insertIdentity } from '../../support/identities.js'
import { formerDefaultHash } from '../../support/passwords.js'

const INVALID = { error: 'Invalid login or password', code: 'UNAUTHORIZED', reason: 'invalid_credentials' }

describe('POST /auth/login', () => {
  it('answers a token pair for the right login and password', async () => {
    const { login, password, identityId } = await registerUser()
    const res = await api.login({ login, password })
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual(TOKEN_PAIR)
    await expect(getApp().tokens.verifyAccessToken(res.body.data.access_token)).resolves.toMatchObject({ identityId })
  })

  it('accepts the login in another letter case and with surrounding spaces', async () => {
    const { login, password } = await registerUser({ login: uniqueLogin('CamelCase') })
    expect((await api.login({ login: ` ${login.toLowerCase()} `, password })).status).toBe(200)
  })

  it('answers the same 401 for a wrong password and for an unknown login', async () => {
    const { login } = await registerUser()
    const wrong = await api.login({ login, password: 'wrong-password-1' })
    const unknown = await api.login({ login: uniqueLogin('nobody'), password: 'wrong-password-1' })
    expect(wrong).toMatchObject({ status: 401, body: INVALID })
    expect(unknown).toMatchObject({ status: 401, body: INVALID })
    expect(unknown.headers).toEqual(wrong.headers)
  })

  it('answers 401 for an identity without a password (external authentication)', async () => {
    const login = uniqueLogin('sso')
    await insertIdentity(login)
    expect(await api.login({ login, password: 'whatever-password' })).toMatchObject({ status: 401, body: INVALID })
  })

  it('does not apply the new-password policy to a login attempt (a short password is just wrong)', async () => {
    const { login } = await registerUser()
    expect(await api.login({ login, password: 'short' })).toMatchObject({ status: 401, body: INVALID })
  })

  it('answers 400 before hashing for a password past the maximum', async () => {
    const { login } = await registerUser()
    const res = await api.login({ login, password: 'p'.repeat(10_000) })
    expect(res).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } })
  })

  it('answers 400 for missing fields and wrong types', async () => {
    expect((await api.login({ login: 'someone' })).body).toEqual({
      error: 'password is required',
      code: 'BAD_REQUEST',
      reason: 'invalid_field',
    })
    expect((await api.login({ password: 'securepassword123' })).body).toEqual({
      error: 'login is required',
      code: 'BAD_REQUEST',
      reason: 'invalid_field',
    })
    expect((await api.login({ login: ['a'], password: 'securepassword123' })).body).toEqual({
      error: 'login must be a string',
      code: 'BAD_REQUEST',
      reason: 'invalid_field',
    })
  })

  it('rehashes a password stored with older Argon2 parameters at the current ones on a successful login', async () => {
    const login = uniqueLogin('legacy')
    const legacy = await formerDefaultHash('legacy-password-1')
    await insertIdentity(login, legacy)
    expect((await api.login({ login, password: 'wrong-password-1' })).status).toBe(401)
    const [unchanged] = await getApp().sql`select password_hash from attune.identity where login = ${login}`
    expect(unchanged?.['password_hash']).toBe(legacy)
    expect((await api.login({ login, password: 'legacy-password-1' })).status).toBe(200)
    const [row] = await getApp().sql`select password_hash from attune.identity where login = ${login}`
    expect(row?.['password_hash']).toMatch(/^\$argon2id\$v=19\$m=7168,t=5,p=1\$/)
    expect((await api.login({ login, password: 'legacy-password-1' })).status).toBe(200)
  })
})
