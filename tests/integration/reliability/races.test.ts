/**
 * Races on a real PostgreSQL: many requests at once for one login, a password change racing logins,
 * and a cold container's parallel first requests.
 */
import { describe, expect, it } from 'vitest'
import { createApp } from '../../../lib/app.js'
import { loadConfig } from '../../../lib/config.js'
import { passwordHashing } from '../../../lib/passwords.js'
import { api, registerUser } from '../../support/api.js'
import { uniqueLogin } from '../../support/events.js'
import { startCountingProxy } from '../../support/pg-counting-proxy.js'

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

  it('gives every login racing a password change either the old or the new password, never a half state', async () => {
    const user = await registerUser({ password: 'the-old-password' })
    const attempts = Array.from({ length: 16 }, (_, i) => (i % 2 ? 'the-old-password' : 'the-new-password'))
    const [change, ...logins] = await Promise.all([
      api.changePassword(user.tokens.access_token, { current_password: 'the-old-password', new_password: 'the-new-password' }),
      ...attempts.map((password) => api.login({ login: user.login, password })),
    ])
    expect(change?.status).toBe(200)
    // Each login is answered for exactly one of the two states: 200 or 401, nothing else.
    for (const res of logins) expect([200, 401]).toContain(res.status)
    // A password that worked was the one in force at that moment: the old one only before the change,
    // the new one only after it. Once settled, only the new one works.
    expect((await api.login({ login: user.login, password: 'the-new-password' })).status).toBe(200)
    expect((await api.login({ login: user.login, password: 'the-old-password' })).status).toBe(401)
    const newOk = logins.filter((res, i) => attempts[i] === 'the-new-password' && res.status === 200).length
    const oldOk = logins.filter((res, i) => attempts[i] === 'the-old-password' && res.status === 200).length
    expect(newOk + oldOk).toBeGreaterThan(0)
  })

  it('shares one connection setup among a cold container’s parallel first requests', async () => {
    const user = await registerUser()
    const proxy = await startCountingProxy(process.env['DATABASE_URL'] as string)
    const app = createApp(
      loadConfig({ ...process.env, DATABASE_URL: proxy.url, DATABASE_POOL_MAX: '1', LOG_LEVEL: 'silent' }),
      passwordHashing,
    )
    try {
      const caller = { identityId: user.identityId, sessionId: (await app.tokens.verifyAccessToken(user.tokens.access_token)).sessionId }
      const profiles = await Promise.all(Array.from({ length: 10 }, () => app.auth.profile(caller)))
      expect(new Set(profiles.map((p) => p.id))).toEqual(new Set([user.identityId]))
      expect(proxy.counts().connections).toBe(1)
    } finally {
      await app.sql.end()
      await proxy.close()
    }
  })
})
