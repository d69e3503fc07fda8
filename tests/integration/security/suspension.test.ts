/**
 * Suspending an account and ending its sessions (`npm run admin -- suspend | unsuspend | end-sessions`), through
 * the real handlers and our authorizer on a real database: what a suspended account can no longer do, what the
 * audit log says, and the races with sign-ins, asserted on the sessions left alive and the tokens that still work.
 */
import { describe, expect, it } from 'vitest'
import { handler as authorizer } from '../../../functions/authorizer.js'
import { policyAllows } from '../../../infra/local/offline-authorizer.js'
import { getApp } from '../../../lib/app.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, registerUser } from '../../support/api.js'
import { admin, freshApi, restEvent } from '../../support/consuming-api.js'
import { codeOf, later, useTotpStepClock } from '../../support/totp-clock.js'

useTotpStepClock()

const activeSessions = async (identityId: number): Promise<number> => {
  const [row] = await getApp().sql<{ count: number }[]>`
    select count(*)::int as count from attune.session
    where identity_id = ${identityId} and revoked is null and expires > now()`
  return row?.count ?? -1
}

const loginOf = (user: RegisteredUser, password = user.password) => api.login({ login: user.login, password })

describe('suspending an account', () => {
  it('ends its sessions at once, answers its right password as a wrong one, and lets it in again once lifted', async () => {
    const user = await registerUser()
    const second = await loginOf(user)
    expect(await activeSessions(user.identityId)).toBe(2)

    expect(await admin('suspend', user.login, '--reason', 'laptop stolen')).toEqual([`suspended ${user.login}: 2 sessions ended`])
    expect(await activeSessions(user.identityId)).toBe(0)
    // Both sessions' access tokens are refused by the authorizer, their refresh tokens by refresh.
    for (const tokens of [user.tokens, second.body.data]) {
      expect((await api.me(tokens.access_token)).body.reason).toBe('session_ended')
      expect((await api.refresh({ refresh_token: tokens.refresh_token })).status).toBe(401)
    }
    // The right password answers exactly as a wrong one: nothing says the account exists or is suspended.
    const right = await loginOf(user)
    const wrong = await loginOf(user, 'not-the-password-1')
    expect({ status: right.status, body: right.body }).toEqual({ status: wrong.status, body: wrong.body })
    expect(right.body.reason).toBe('invalid_credentials')
    expect(await activeSessions(user.identityId)).toBe(0)

    const events = await getApp().sql<{ type: string; actor_type: string; actor_id: string; data: Record<string, unknown> }[]>`
      select type, actor_type, actor_id, data from attune.audit_event
      where identity_id = ${user.identityId} and type in ('identity.suspended', 'session.ended') order by id`
    expect(events).toEqual([
      { type: 'session.ended', actor_type: 'admin', actor_id: 'cli', data: { reason: 'suspended' } },
      { type: 'session.ended', actor_type: 'admin', actor_id: 'cli', data: { reason: 'suspended' } },
      { type: 'identity.suspended', actor_type: 'admin', actor_id: 'cli', data: { reason: 'laptop stolen', sessions_ended: 2 } },
    ])

    expect(await admin('suspend', user.login)).toEqual([`${user.login} was suspended already (0 sessions ended now)`])
    expect(await admin('unsuspend', user.login)).toEqual([`${user.login} may sign in again`])
    expect(await admin('unsuspend', user.login)).toEqual([`${user.login} is not suspended`])
    const again = await loginOf(user)
    expect(again.status).toBe(200)
    expect((await api.me(again.body.data.access_token)).status).toBe(200)
    const [lifted] = await getApp().sql<{ actor_id: string }[]>`
      select actor_id from attune.audit_event where identity_id = ${user.identityId} and type = 'identity.unsuspended'`
    expect(lifted?.actor_id).toBe('cli')
  })

  it('refuses a two-factor sign-in that passed its password before the suspension, good code and all', async () => {
    const user = await registerUser()
    const enrolment = await api.mfa.enrol(user.tokens.access_token)
    const { factor_id, secret } = enrolment.body.data
    expect((await api.mfa.activate(user.tokens.access_token, factor_id, { code: codeOf(secret) })).status).toBe(200)
    const challenge = await loginOf(user)
    expect(challenge.body.data.mfa_required).toBe(true)

    await admin('suspend', user.login)
    later()
    const verified = await api.mfa.verify({ mfa_token: challenge.body.data.mfa_token, code: codeOf(secret) })
    expect({ status: verified.status, reason: verified.body.reason }).toEqual({ status: 401, reason: 'mfa_token_invalid' })
    expect(await activeSessions(user.identityId)).toBe(0)
  })

  it('refuses a suspended service account’s API keys, and takes them back when lifted', async () => {
    const name = `sus-${Math.random().toString(36).slice(2, 10)}`
    await admin('create-service-account', name)
    const key = (await admin('create-key', name, 'nightly')).at(-1) as string
    const orders = freshApi()
    const allowed = async () =>
      policyAllows(await authorizer(restEvent(orders, 'GET', '/orders', `Bearer ${key}`)), orders.arn('GET', '/orders'))
    expect(await allowed()).toBe(true)
    await admin('suspend', `service:${name}`)
    expect(await allowed()).toBe(false)
    await admin('unsuspend', `service:${name}`)
    expect(await allowed()).toBe(true)
  })

  it('leaves no session alive when it races with logins of the right password', async () => {
    for (let round = 0; round < 3; round++) {
      const user = await registerUser()
      const logins = Array.from({ length: 6 }, () => loginOf(user))
      const [suspended] = await Promise.all([admin('suspend', user.login), ...logins])
      expect(suspended?.[0]).toMatch(/^suspended /)
      // Whatever each login answered, no session of the account is alive, and no token it got still works.
      expect(await activeSessions(user.identityId)).toBe(0)
      for (const res of await Promise.all(logins)) {
        if (res.status === 200) expect((await api.me(res.body.data.access_token)).body.reason).toBe('session_ended')
        // After the suspension a login is a failed one, and failures count toward the account's throttle.
        else expect(['invalid_credentials', 'too_many_attempts']).toContain(res.body.reason)
      }
    }
  })
})

describe('ending an account’s sessions', () => {
  it('ends every session of the account, and only of it, without keeping it out', async () => {
    const [user, other] = [await registerUser(), await registerUser()]
    await loginOf(user)
    expect(await admin('end-sessions', user.login)).toEqual([`ended 2 sessions of ${user.login}`])
    expect(await activeSessions(user.identityId)).toBe(0)
    expect(await activeSessions(other.identityId)).toBe(1)
    expect((await api.me(user.tokens.access_token)).body.reason).toBe('session_ended')
    const [event] = await getApp().sql<{ actor_id: string; data: Record<string, unknown> }[]>`
      select actor_id, data from attune.audit_event where identity_id = ${user.identityId} and type = 'session.ended' limit 1`
    expect(event).toEqual({ actor_id: 'cli', data: { reason: 'ended_by_admin' } })
    expect((await loginOf(user)).status).toBe(200)
    await expect(admin('end-sessions', 'nobody-has-this-login')).rejects.toThrow(/no identity has the login/)
  })
})

describe('the suspension admin routes', () => {
  /** An administrator (the built-in admin role) who turned TOTP on: the aal2 access token activation answered. */
  async function aal2Administrator(): Promise<{ user: RegisteredUser; token: string }> {
    const user = await registerUser()
    await admin('grant-role', user.login, 'admin')
    const { factor_id, secret } = (await api.mfa.enrol(user.tokens.access_token)).body.data
    const activated = await api.mfa.activate(user.tokens.access_token, factor_id, { code: codeOf(secret) })
    expect(activated.status).toBe(200)
    return { user, token: activated.body.data.access_token }
  }

  it('end sessions, suspend and lift, as an administrator signed in with a second factor, audited with them as actor', async () => {
    const { user: administrator, token } = await aal2Administrator()
    const user = await registerUser()
    await loginOf(user)

    const ended = await api.admin.endSessions(token, user.identityId)
    expect({ status: ended.status, body: ended.body }).toEqual({ status: 200, body: { data: { sessions_ended: 2 } } })
    const back = await loginOf(user)
    expect(back.status).toBe(200)

    const suspended = await api.admin.suspend(token, user.identityId, { reason: '  left the company ' })
    expect(suspended.body).toEqual({ data: { suspended: true, sessions_ended: 1 } })
    expect((await api.me(back.body.data.access_token)).body.reason).toBe('session_ended')
    expect((await loginOf(user)).body.reason).toBe('invalid_credentials')
    // The administrator sees it suspended.
    const [found] = (await api.admin.findIdentities(token, user.login)).body.data
    expect(found).toMatchObject({ id: user.identityId, suspended_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) })
    const [event] = await getApp().sql<{ actor_type: string; actor_id: string; data: Record<string, unknown> }[]>`
      select actor_type, actor_id, data from attune.audit_event where identity_id = ${user.identityId} and type = 'identity.suspended'`
    expect(event).toEqual({
      actor_type: 'admin',
      actor_id: String(administrator.identityId),
      data: { reason: 'left the company', sessions_ended: 1 },
    })

    expect((await api.admin.unsuspend(token, user.identityId)).body).toEqual({ data: { suspended: false } })
    expect((await api.admin.unsuspend(token, user.identityId)).body).toEqual({ data: { suspended: false } })
    expect((await api.admin.findIdentities(token, user.login)).body.data[0].suspended_at).toBeNull()
    expect((await loginOf(user)).status).toBe(200)
  })

  it('refuse a caller without attune:admin (403), an administrator without a second factor (401 step-up), and change nothing', async () => {
    const target = await registerUser()
    const stranger = await registerUser()
    const aal1 = await registerUser()
    await admin('grant-role', aal1.login, 'admin')
    for (const call of [
      (token: string) => api.admin.endSessions(token, target.identityId),
      (token: string) => api.admin.suspend(token, target.identityId, {}),
      (token: string) => api.admin.unsuspend(token, target.identityId),
    ]) {
      const forbidden = await call(stranger.tokens.access_token)
      expect({ status: forbidden.status, reason: forbidden.body.reason }).toEqual({ status: 403, reason: 'permission_missing' })
      const stepUp = await call(aal1.tokens.access_token)
      expect({ status: stepUp.status, reason: stepUp.body.reason }).toEqual({ status: 401, reason: 'step_up_required' })
      expect(stepUp.headers['WWW-Authenticate']).toBe(
        'Bearer realm="attune-auth", error="insufficient_user_authentication", acr_values="aal2"',
      )
    }
    expect(await activeSessions(target.identityId)).toBe(1)
    expect((await loginOf(target)).status).toBe(200)
  })

  it('refuse suspending oneself, an identity that does not exist, and a reason that is not one', async () => {
    const { user: administrator, token } = await aal2Administrator()
    const self = await api.admin.suspend(token, administrator.identityId, {})
    expect({ status: self.status, body: self.body }).toEqual({
      status: 409,
      body: { error: 'You cannot suspend your own account', code: 'CONFLICT', reason: 'cannot_suspend_self' },
    })
    expect((await api.me(token)).status).toBe(200)
    for (const call of [api.admin.endSessions, api.admin.unsuspend]) {
      expect((await call(token, 999_999_999_999)).body.reason).toBe('identity_not_found')
    }
    expect((await api.admin.suspend(token, 999_999_999_999, {})).body.reason).toBe('identity_not_found')
    const target = await registerUser()
    for (const reason of ['x'.repeat(201), 'line\nbreak', 42]) {
      const bad = await api.admin.suspend(token, target.identityId, { reason })
      expect({ status: bad.status, reason: bad.body.reason }, JSON.stringify(reason)).toEqual({ status: 400, reason: 'invalid_field' })
    }
    expect(await activeSessions(target.identityId)).toBe(1)
  })
})
