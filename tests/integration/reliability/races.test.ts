/**
 * Races on a real PostgreSQL: many requests at once for one login, a password change racing logins,
 * and a cold container's parallel first requests.
 */
import { describe, expect, it } from 'vitest'
import { createApp, getApp } from '../../../lib/app.js'
import { loadConfig } from '../../../lib/config.js'
import type { TokenPair } from '../../../lib/tokens/service.js'
import { api, registerUser } from '../../support/api.js'
import { uniqueLogin } from '../../support/events.js'
import { startCountingProxy } from '../../support/pg-counting-proxy.js'
import { loginInput, rulesOf } from '../../support/rules.js'

describe('races', () => {
  it('lets exactly one of 50 parallel registrations of one login succeed; the other 49 get 409', async () => {
    const login = uniqueLogin('race50')
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api.register({ login: i % 2 ? login : login.toUpperCase(), password: 'securepassword123' })),
    )
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(1)
    expect(statuses.filter((s) => s === 409)).toHaveLength(49)
  })

  it('leaves no session opened with the old password alive once a password change has answered (8 logins racing it, 6 rounds)', async () => {
    // The logins run as containers of their own whose database is 40 ms away: each verifies the old password,
    // and its session insert reaches the database only after the change (on a near connection) has committed
    // and ended the other sessions. The insert must find the credentials changed and open nothing.
    const far = await startCountingProxy(process.env['DATABASE_URL'] as string, { latencyMs: 40 })
    // More free attempts than racing logins: this is about the password change, not the login throttle.
    const farApp = createApp(loadConfig({ ...process.env, DATABASE_URL: far.url, LOG_LEVEL: 'silent', LOGIN_FREE_ATTEMPTS: '100' }))
    const logins = rulesOf(farApp)
    const client = { requestId: null, userAgent: 'race', sourceIp: '127.0.0.1' }
    try {
      for (let round = 0; round < 6; round++) {
        const user = await registerUser({ password: 'the-old-password' })
        const [change, ...opened] = await Promise.all([
          api.changePassword(user.tokens.access_token, { current_password: 'the-old-password', new_password: 'the-new-password' }),
          ...Array.from({ length: 8 }, () =>
            logins.login(loginInput(user.login, 'the-old-password'), client).catch((error: unknown) => error),
          ),
        ])
        expect(change?.status).toBe(200)
        for (const result of opened) if (result instanceof Error) expect(result).toMatchObject({ status: 401 })
        // The state afterwards: the only active session is the one that changed the password ...
        const active = await getApp().sql`
          select id from attune.session where identity_id = ${user.identityId} and revoked is null and expires > now()`
        const changer = (await getApp().tokens.verifyAccessToken(user.tokens.access_token)).sessionId
        expect(active.map((row) => row['id'])).toEqual([changer])
        // ... and no token of a login that checked the old password works, access or refresh.
        for (const pair of opened.filter((result): result is TokenPair => !(result instanceof Error))) {
          expect((await api.me(pair.access_token)).status).toBe(401)
          expect((await api.refresh({ refresh_token: pair.refresh_token })).status).toBe(401)
        }
        expect((await api.me(change?.body.data.access_token)).status).toBe(200)
        expect((await api.login({ login: user.login, password: 'the-old-password' })).status).toBe(401)
      }
    } finally {
      await farApp.sql.end()
      await far.close()
    }
  })

  it('gives logins racing a password change with either password only sessions that the new password explains', async () => {
    const user = await registerUser({ password: 'the-old-password' })
    const attempts = Array.from({ length: 16 }, (_, i) => (i % 2 ? 'the-old-password' : 'the-new-password'))
    const [change, ...logins] = await Promise.all([
      api.changePassword(user.tokens.access_token, { current_password: 'the-old-password', new_password: 'the-new-password' }),
      ...attempts.map((password) => api.login({ login: user.login, password })),
    ])
    expect(change?.status).toBe(200)
    // 429: refused by the account's throttle before anything was checked (16 logins at once are 11 over its 5 free).
    for (const res of logins) expect([200, 401, 429]).toContain(res.status)
    // Every session alive afterwards was opened with the new password (or is the changer's own).
    const alive = await Promise.all(
      logins.map(async (res) => res.status === 200 && (await api.me(res.body.data.access_token)).status === 200),
    )
    alive.forEach((ok, i) => {
      if (ok) expect(attempts[i]).toBe('the-new-password')
    })
    const newPasswordLogins = logins.filter((res, i) => attempts[i] === 'the-new-password' && res.status === 200)
    const [row] = await getApp().sql`
      select count(*)::int as n from attune.session where identity_id = ${user.identityId} and revoked is null and expires > now()`
    expect(row?.['n']).toBe(1 + newPasswordLogins.length)
    expect((await api.login({ login: user.login, password: 'the-new-password' })).status).toBe(200)
    expect((await api.login({ login: user.login, password: 'the-old-password' })).status).toBe(401)
  })

  it('shares one connection setup among a cold container’s parallel first requests', async () => {
    const user = await registerUser()
    const proxy = await startCountingProxy(process.env['DATABASE_URL'] as string)
    const app = createApp(loadConfig({ ...process.env, DATABASE_URL: proxy.url, DATABASE_POOL_MAX: '1', LOG_LEVEL: 'silent' }))
    try {
      const caller = { identityId: user.identityId, sessionId: (await app.tokens.verifyAccessToken(user.tokens.access_token)).sessionId }
      const profiles = await Promise.all(Array.from({ length: 10 }, () => rulesOf(app).profile(caller)))
      expect(new Set(profiles.map((p) => p.id))).toEqual(new Set([user.identityId]))
      expect(proxy.counts().connections).toBe(1)
    } finally {
      await app.sql.end()
      await proxy.close()
    }
  })
})
