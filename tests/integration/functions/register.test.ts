import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { api, registerUser } from '../../support/api.js'
import { uniqueLogin } from '../../support/events.js'

const JWT = /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/

describe('POST /auth/register', () => {
  it('answers 200 with a Bearer token pair in the data envelope', async () => {
    const res = await api.register({ login: uniqueLogin(), password: 'securepassword123', display_name: 'John Doe' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({
      data: { access_token: expect.stringMatching(JWT), refresh_token: expect.stringMatching(JWT), token_type: 'Bearer', expires_in: 3600 },
    })
  })

  it('issues an access token for the new identity that /auth/me accepts', async () => {
    const login = uniqueLogin()
    const res = await api.register({ login, password: 'securepassword123', display_name: 'John Doe' })
    const me = await api.me(res.body.data.access_token)
    expect(me.body.data).toEqual({
      id: expect.any(Number),
      login,
      display_name: 'John Doe',
      email: null,
      email_verified: false,
      roles: [],
      permissions: [],
    })
  })

  it('makes display_name optional: absent, null or blank is stored as null', async () => {
    for (const extra of [{}, { display_name: null }, { display_name: '   ' }]) {
      const res = await api.register({ login: uniqueLogin(), password: 'securepassword123', ...extra })
      expect((await api.me(res.body.data.access_token)).body.data.display_name).toBeNull()
    }
  })

  it('stores an Argon2id hash in password_hash, never the password', async () => {
    const { identityId, password } = await registerUser()
    const [row] = await getApp().sql`select password_hash, attributes from attune.identity where id = ${identityId}`
    expect(row?.['password_hash']).toMatch(/^\$argon2id\$v=19\$m=7168,t=5,p=1\$/)
    expect(JSON.stringify(row)).not.toContain(password)
  })

  it('answers 409 CONFLICT for a login that exists', async () => {
    const { login } = await registerUser()
    const res = await api.register({ login, password: 'anotherpassword1' })
    expect(res).toMatchObject({ status: 409, body: { error: 'Login already exists', code: 'CONFLICT', reason: 'login_taken' } })
  })

  it('treats logins as unique regardless of letter case and surrounding spaces', async () => {
    const login = uniqueLogin('Mixed')
    await registerUser({ login })
    expect((await api.register({ login: login.toUpperCase(), password: 'anotherpassword1' })).status).toBe(409)
    expect((await api.register({ login: `  ${login.toLowerCase()} `, password: 'anotherpassword1' })).status).toBe(409)
  })

  it('keeps the login as typed, trimmed', async () => {
    const login = uniqueLogin('Ada')
    const { tokens } = await registerUser({ login: `  ${login}  ` })
    expect((await api.me(tokens.access_token)).body.data.login).toBe(login)
  })

  it.each([
    [{ password: 'securepassword123' }, 'login is required'],
    [{ login: 'someone' }, 'password is required'],
    [{ login: 42, password: 'securepassword123' }, 'login must be a string'],
    [{ login: '   ', password: 'securepassword123' }, 'login is required'],
    [{ login: 'x'.repeat(65), password: 'securepassword123' }, 'login must be at most 64 characters'],
    [{ login: 'bad\u0000login', password: 'securepassword123' }, 'login must not contain control characters'],
    [{ login: 'someone', password: 'short' }, 'password must be at least 8 characters'],
    [{ login: 'someone', password: 'p'.repeat(257) }, 'password must be at most 256 characters'],
    [{ login: 'someone', password: 12345678 }, 'password must be a string'],
    [{ login: 'someone', password: 'securepassword123', display_name: 7 }, 'display_name must be a string'],
    [{ login: 'someone', password: 'securepassword123', display_name: 'd'.repeat(129) }, 'display_name must be at most 128 characters'],
  ])('answers 400 BAD_REQUEST for %j', async (body, message) => {
    const res = await api.register(body)
    expect(res).toMatchObject({ status: 400, body: { error: message, code: 'BAD_REQUEST' } })
  })

  it('counts password length in characters, not bytes: 8 emoji are enough', async () => {
    const res = await api.register({ login: uniqueLogin(), password: '🔐🔑🗝🚪🏠🌳🌊🔥' })
    expect(res.status).toBe(200)
  })

  it('lets exactly one of 20 parallel registrations of one login succeed; the rest get 409', async () => {
    const login = uniqueLogin('race')
    const results = await Promise.all(Array.from({ length: 20 }, () => api.register({ login, password: 'securepassword123' })))
    const statuses = results.map((r) => r.status).sort()
    expect(statuses.filter((s) => s === 200)).toHaveLength(1)
    expect(statuses.filter((s) => s === 409)).toHaveLength(19)
  })

  it('refuses a password with a lone UTF-16 surrogate (400), so \\udc00 and \\ud800 can never be one password', async () => {
    const login = uniqueLogin('surrogate')
    expect(await api.register({ login, password: '\udc00'.repeat(8) })).toMatchObject({
      status: 400,
      body: { error: 'password must be valid Unicode', code: 'BAD_REQUEST', reason: 'invalid_field' },
    })
    const user = await registerUser()
    expect(await api.login({ login: user.login, password: '\ud800'.repeat(8) })).toMatchObject({ status: 400 })
    const change = await api.changePassword(user.tokens.access_token, { current_password: user.password, new_password: 'ok-but-\ud800-x' })
    expect(change).toMatchObject({ status: 400, body: { error: 'new_password must be valid Unicode' } })
  })

  it('answers 409 for every look-alike of a taken login (width, case folding, confusables), and stores none of them', async () => {
    const base = `alice${Date.now().toString(36).replace(/[0-9]/g, '')}${Math.random().toString(36).slice(2, 8).replace(/[0-9]/g, '')}`
    expect((await api.register({ login: base, password: 'securepassword123' })).status).toBe(200)
    const fullwidth = [...base].map((c) => String.fromCodePoint((c.codePointAt(0) as number) + 0xfee0)).join('')
    const variants = {
      'upper case': base.toUpperCase(),
      fullwidth,
      'Cyrillic а for Latin a': base.replace('a', '\u0430'),
      'mathematical bold': [...base].map((c) => String.fromCodePoint((c.codePointAt(0) as number) - 0x61 + 0x1d41a)).join(''),
    }
    for (const [why, login] of Object.entries(variants)) {
      expect(await api.register({ login, password: 'securepassword123' }), why).toMatchObject({
        status: 409,
        body: { reason: 'login_taken' },
      })
    }
    const [row] = await getApp().sql`select count(*)::int as n from attune.identity where login_key = ${base} or login_skeleton = ${base}`
    expect(row?.['n']).toBe(1)
  })

  it('treats ß/SS, ς/σ, ﬁ/fi, ı/i and ℌ/H pairs as one login', async () => {
    const tag = Math.random().toString(36).slice(2, 8).replace(/[0-9]/g, 'x')
    const pairs = [
      [`stra\u00dfe${tag}`, `STRASSE${tag}`],
      [`\u03c3\u03bf\u03c6\u03bf\u03c2${tag}`, `\u03c3\u03bf\u03c6\u03bf\u03c3${tag}`],
      [`\ufb01le${tag}`, `file${tag}`],
      [`b\u0131ll${tag}`, `bill${tag}`],
      [`\u210carry${tag}`, `Harry${tag}`],
    ]
    for (const [first, second] of pairs) {
      expect((await api.register({ login: first, password: 'securepassword123' })).status, first).toBe(200)
      expect((await api.register({ login: second, password: 'securepassword123' })).status, second).toBe(409)
    }
  })

  it('refuses invisible characters, bidi controls and unassigned code points in a login with a 400 that says why', async () => {
    const cases = {
      '\u200b': 'invisible',
      '\u200d': 'invisible',
      '\u00ad': 'invisible',
      '\ufeff': 'invisible',
      '\u3164': 'invisible',
      '\u{e0041}': 'invisible',
      '\u202e': 'bidirectional',
      '\u200e': 'bidirectional',
      '\u{50000}': 'unassigned',
    }
    for (const [character, rule] of Object.entries(cases)) {
      const res = await api.register({ login: `ab${character}cd${uniqueLogin()}`, password: 'securepassword123' })
      expect(res, JSON.stringify(character)).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', reason: 'invalid_field' } })
      expect(res.body.error).toContain(rule)
    }
  })

  it('keeps the login as first typed for display, and logs in with any spelling of the same key', async () => {
    const login = `Ｄｉｓｐｌａｙ${uniqueLogin().replace(/[^a-z]/g, '')}`
    const { tokens } = await registerUser({ login })
    expect((await api.me(tokens.access_token)).body.data.login).toBe(login)
    expect((await api.login({ login: login.normalize('NFKC').toLowerCase(), password: 'securepassword123' })).status).toBe(200)
  })
})
