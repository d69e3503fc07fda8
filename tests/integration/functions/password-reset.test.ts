/**
 * POST /auth/password/forgot and /auth/password/reset, with the outbox: what is queued, for whom, and what a
 * reset leaves behind (which passwords work, which sessions are alive, which counters are cleared).
 */
import { randomUUID } from 'node:crypto'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { createApp, getApp } from '../../../lib/app.js'
import { loadConfig } from '../../../lib/config.js'
import { createEmailAddressRules } from '../../../lib/email/addresses.js'
import { addressParts, recoveryParts, resetParts } from '../../../lib/email/parts.js'
import { createPasswordRecovery, createPasswordReset } from '../../../lib/email/recovery.js'
import { ForgotPasswordBody } from '../../../lib/email/requests.js'
import { hashEmailToken, newEmailToken } from '../../../lib/email/tokens.js'
import { passwordHashing } from '../../../lib/passwords/hashing.js'
import { queuedMails as allQueuedMails, api, queuedToken, registerUser, uniqueEmail, verifiedUser } from '../../support/api.js'

/** The mails queued for `email` after its verification mail. */
const queuedMails = async (email: string) => (await allQueuedMails(email)).filter((mail) => mail.template !== 'verify_email')

import { uniqueLogin } from '../../support/events.js'

const NEW_PASSWORD = 'a-brand-new-passphrase-9'

async function resetToken(user: { email: string; login: string }): Promise<string> {
  expect((await api.forgotPassword({ login: user.login })).status).toBe(202)
  return queuedToken(user.email, 'password_reset')
}

describe('POST /auth/password/forgot', () => {
  it('answers 202 {accepted: true} alike for an unknown login, an account without a verified address and one with', async () => {
    const verified = await verifiedUser()
    const unverified = await registerUser()
    const answers = await Promise.all([
      api.forgotPassword({ login: uniqueLogin('nobody') }),
      api.forgotPassword({ login: uniqueEmail('nobody') }),
      api.forgotPassword({ login: unverified.login }),
      api.forgotPassword({ login: verified.login }),
    ])
    for (const answer of answers)
      expect({ status: answer.status, body: answer.body }).toEqual({ status: 202, body: { data: { accepted: true } } })
    // Only the account with a verified address has a mail, and its audit event.
    expect((await queuedMails(verified.email)).map((m) => m.template)).toEqual(['password_reset'])
    const events = await getApp().sql`
      select identity_id from attune.audit_event where type = 'password.reset_requested' and identity_id in ${getApp().sql([verified.identityId, unverified.identityId])}`
    expect(events).toEqual([{ identity_id: String(verified.identityId) }])
  })

  it('finds the account by its verified email too, in any letter case', async () => {
    const user = await verifiedUser()
    expect((await api.forgotPassword({ login: user.email.toUpperCase() })).status).toBe(202)
    expect((await queuedMails(user.email)).map((m) => m.template)).toEqual(['password_reset'])
  })

  it('queues a link built from PASSWORD_RESET_URL, never from the request, expiring after PASSWORD_RESET_TTL', async () => {
    const user = await verifiedUser()
    const token = await resetToken(user)
    const [mail] = await queuedMails(user.email)
    expect(mail?.data).toEqual({ link: `https://app.attune.test/reset-password#token=${token}`, expires_minutes: 30 })
    const [row] = await getApp().sql`
      select extract(epoch from expires - created)::int as ttl, email from attune.email_token
      where token_hash = ${hashEmailToken(token)}`
    expect(row).toEqual({ ttl: 1800, email: user.email })
  })

  it('sends at most one reset mail a minute per account; a later token replaces the earlier one', async () => {
    const user = await verifiedUser()
    const first = await resetToken(user)
    expect((await api.forgotPassword({ login: user.login })).status).toBe(202)
    expect(await queuedMails(user.email)).toHaveLength(1)
    // A minute later (the counter's window moved back), a new mail, and the first token no longer works.
    await getApp().sql`update attune.throttle set blocked_until = now() - interval '1 second', window_start = now() - interval '61 seconds'
                       where key = ${getApp().throttleKeys.accountMail(user.identityId, 'password_reset', 'minute')}`
    const second = await resetToken(user)
    expect(second).not.toBe(first)
    expect((await api.resetPassword({ token: first, new_password: NEW_PASSWORD })).body.reason).toBe('email_token_invalid')
    expect((await api.resetPassword({ token: second, new_password: NEW_PASSWORD })).status).toBe(200)
  })

  it.each([
    [
      'a header injection',
      (email: string) => ({ login: `${email}\r\nBcc: victim@example.com` }),
      'login must not contain control characters',
    ],
    ['a line feed', (email: string) => ({ login: `${email}\nX-Injected: yes` }), 'login must not contain control characters'],
    ['an over-long address', (email: string) => ({ login: `${'a'.repeat(250)}${email}` }), 'login must be at most 254 characters'],
    ['an empty login', () => ({ login: '' }), 'login is required'],
    ['a number', () => ({ login: 42 }), 'login must be a string'],
    ['no login', () => ({}), 'login is required'],
  ])('refuses %s with 400 and queues nothing', async (_, body, error) => {
    const user = await verifiedUser()
    const res = await api.forgotPassword(body(user.email))
    expect(res).toMatchObject({ status: 400, body: { error, code: 'BAD_REQUEST', reason: 'invalid_field' } })
    expect(await queuedMails(user.email)).toEqual([])
    expect(await getApp().sql`select 1 from attune.outbox where recipient like '%victim@example.com%'`).toEqual([])
  })
})

describe('POST /auth/password/reset', () => {
  it('sets the new password, ends every session, clears the login throttle and queues a notice; the old password no longer works', async () => {
    const user = await verifiedUser()
    const other = await api.login({ login: user.login, password: user.password })
    for (let i = 0; i < 3; i++) await api.login({ login: user.login, password: `wrong-guess-${i}` })
    const token = await resetToken(user)
    const res = await api.resetPassword({ token, new_password: NEW_PASSWORD })
    expect({ status: res.status, body: res.body }).toEqual({ status: 200, body: { data: { success: true } } })
    // Every session ended: both access tokens are refused, no session of the identity is active.
    expect((await api.me(user.tokens.access_token)).body.reason).toBe('session_ended')
    expect((await api.me(other.body.data.access_token)).body.reason).toBe('session_ended')
    expect(await getApp().sql`select id from attune.session where identity_id = ${user.identityId} and revoked is null`).toEqual([])
    // The login throttle is cleared, the old password refused, the new one works.
    expect(await getApp().sql`select 1 from attune.throttle where key = ${getApp().throttleKeys.login(user.login)}`).toEqual([])
    expect((await api.login({ login: user.login, password: user.password })).status).toBe(401)
    expect((await api.login({ login: user.login, password: NEW_PASSWORD })).status).toBe(200)
    expect((await queuedMails(user.email)).map((m) => m.template)).toEqual(['password_reset', 'password_changed'])
    const audit = await getApp().sql`
      select type, data->>'reason' as reason from attune.audit_event
      where identity_id = ${user.identityId} and type in ('password.reset_completed', 'session.ended') order by type`
    expect(audit).toEqual([
      { type: 'password.reset_completed', reason: null },
      { type: 'session.ended', reason: 'password_reset' },
      { type: 'session.ended', reason: 'password_reset' },
    ])
  })

  it('accepts a token once', async () => {
    const user = await verifiedUser()
    const token = await resetToken(user)
    expect((await api.resetPassword({ token, new_password: NEW_PASSWORD })).status).toBe(200)
    const again = await api.resetPassword({ token, new_password: 'yet-another-passphrase-7' })
    expect({ status: again.status, body: again.body }).toEqual({
      status: 400,
      body: { error: 'This link is invalid, used or expired: ask for a new one', code: 'BAD_REQUEST', reason: 'email_token_invalid' },
    })
    expect((await api.login({ login: user.login, password: NEW_PASSWORD })).status).toBe(200)
  })

  it('lets exactly one of two parallel resets with one token through; the password is the winner’s', async () => {
    const user = await verifiedUser()
    const token = await resetToken(user)
    const passwords = ['first-racer-passphrase-1', 'second-racer-passphrase-2']
    const answers = await Promise.all(passwords.map((new_password) => api.resetPassword({ token, new_password })))
    expect(answers.map((a) => a.status).sort()).toEqual([200, 400])
    const winner = passwords[answers.findIndex((a) => a.status === 200)] as string
    const loser = passwords.find((p) => p !== winner) as string
    expect((await api.login({ login: user.login, password: winner })).status).toBe(200)
    expect((await api.login({ login: user.login, password: loser })).status).toBe(401)
  })

  it('refuses an expired token, a verification token, and tokens that are not ours', async () => {
    const user = await verifiedUser()
    const expired = await resetToken(user)
    await getApp().sql`update attune.email_token set expires = now() - interval '1 second' where token_hash = ${hashEmailToken(expired)}`
    const verification = newEmailToken()
    await getApp().sql`
      insert into attune.email_token (token_hash, identity_id, purpose, email, expires)
      values (${verification.hash}, ${user.identityId}, 'verify_email', ${uniqueEmail()}, now() + interval '1 hour')`
    for (const token of [expired, verification.token, newEmailToken().token, 'short', `${expired}x`, randomUUID()]) {
      const res = await api.resetPassword({ token, new_password: NEW_PASSWORD })
      expect(res.body.reason, token).toBe('email_token_invalid')
    }
    expect((await api.login({ login: user.login, password: user.password })).status).toBe(200)
  })

  it('refuses a weak new password with the token still usable', async () => {
    const user = await verifiedUser()
    const token = await resetToken(user)
    expect((await api.resetPassword({ token, new_password: 'password123' })).body).toMatchObject({ code: 'WEAK_PASSWORD' })
    expect((await api.resetPassword({ token, new_password: `${user.login}-pass` })).body).toMatchObject({ code: 'WEAK_PASSWORD' })
    expect((await api.resetPassword({ token, new_password: NEW_PASSWORD })).status).toBe(200)
  })
})

describe('per source address', () => {
  it('counts forgot, reset and verify together, and answers 429 with Retry-After past EMAIL_REQUESTS_PER_ADDRESS', async () => {
    const limited = createApp(loadConfig({ ...process.env, EMAIL_REQUESTS_PER_ADDRESS: '3' }))
    try {
      const recovery = createPasswordRecovery(recoveryParts(limited))
      const reset = createPasswordReset(resetParts(limited, passwordHashing), passwordHashing)
      const addresses = createEmailAddressRules(addressParts(limited))
      // Addresses no other run has counted: a /64 of the documentation prefix, random (IPv6 is counted by /64).
      const fresh = () => `2001:db8:${randomUUID().slice(0, 4)}:${randomUUID().slice(0, 4)}::1`
      const client = { requestId: null, userAgent: 'flood', sourceIp: fresh() }
      const other = { ...client, sourceIp: fresh() }
      await recovery.forgot(v.parse(ForgotPasswordBody, { login: uniqueLogin('nobody') }), client)
      await reset.reset({ token: newEmailToken().token, new_password: NEW_PASSWORD }, client).catch(() => {})
      await addresses.verify({ token: newEmailToken().token }, client).catch(() => {})
      for (const attempt of [
        () => recovery.forgot(v.parse(ForgotPasswordBody, { login: uniqueLogin('nobody') }), client),
        () => reset.reset({ token: newEmailToken().token, new_password: NEW_PASSWORD }, client),
        () => addresses.verify({ token: newEmailToken().token }, client),
      ]) {
        await expect(attempt()).rejects.toMatchObject({
          status: 429,
          reason: 'too_many_attempts',
          headers: { 'Retry-After': expect.any(String) },
        })
      }
      // Another address is not affected.
      expect(await recovery.forgot(v.parse(ForgotPasswordBody, { login: uniqueLogin('nobody') }), other)).toEqual({ accepted: true })
    } finally {
      await limited.sql.end()
    }
  })
})
