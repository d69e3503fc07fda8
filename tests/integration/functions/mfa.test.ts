/**
 * Two-factor authentication through the real handlers and our authorizer (README "Two-factor authentication"):
 * enrol, activate, login → mfa_required → verify, recovery codes, removal, reauthentication, a password reset
 * that needs the factor, and the assurance claims. Codes come from an independent RFC 6238 implementation
 * (tests/support/totp-reference.ts), on the step clock of tests/support/totp-clock.ts.
 */
import { randomUUID } from 'node:crypto'
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import type { RegisteredUser } from '../../support/api.js'
import { api, queuedMails, queuedToken, registerUser, TOKEN_PAIR, verifiedUser } from '../../support/api.js'
import { codeOf, later, useTotpStepClock } from '../../support/totp-clock.js'

useTotpStepClock()

const claimsOf = (accessToken: string) => decodeJwt(accessToken)

/** A user with an active TOTP factor: its secret, recovery codes and the aal2 token pair activation answered. */
async function enrolledUser(): Promise<RegisteredUser & { secret: string; factorId: string; recoveryCodes: string[] }> {
  const user = await registerUser()
  const enrolment = await api.mfa.enrol(user.tokens.access_token)
  expect(enrolment.status).toBe(201)
  const { factor_id, secret } = enrolment.body.data
  const activated = await api.mfa.activate(user.tokens.access_token, factor_id, { code: codeOf(secret) })
  expect(activated.status).toBe(200)
  const { recovery_codes, ...tokens } = activated.body.data
  return { ...user, tokens, secret, factorId: factor_id, recoveryCodes: recovery_codes }
}

/** Logs in with the password: the challenge a user with a second factor gets. */
async function challenge(user: RegisteredUser): Promise<string> {
  const res = await api.login({ login: user.login, password: user.password })
  expect(res.status).toBe(200)
  return res.body.data.mfa_token
}

describe('enrolling and activating TOTP', () => {
  it('enrols on a fresh sign-in, activates with a first code, and raises this session to aal2 in place', async () => {
    const user = await registerUser()
    const other = await api.login({ login: user.login, password: user.password })
    const enrolment = await api.mfa.enrol(user.tokens.access_token)
    expect(enrolment.body.data).toEqual({
      factor_id: expect.any(String),
      secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
      otpauth_uri: expect.stringMatching(/^otpauth:\/\/totp\//),
      expires_in: 600,
    })
    expect((await api.mfa.status(user.tokens.access_token)).body.data).toMatchObject({
      enabled: false,
      factors: [{ id: enrolment.body.data.factor_id, kind: 'totp', status: 'pending', activated: null }],
      recovery_codes_left: 0,
    })
    const { factor_id, secret } = enrolment.body.data
    expect((await api.mfa.activate(user.tokens.access_token, factor_id, { code: codeOf(secret, 1) })).body.reason).toBe('mfa_code_invalid')
    const activated = await api.mfa.activate(user.tokens.access_token, factor_id, { code: codeOf(secret) })
    expect(activated.body.data).toEqual({ recovery_codes: expect.any(Array), ...TOKEN_PAIR })
    expect(activated.body.data.recovery_codes).toHaveLength(10)
    // The new pair is the same session, now aal2; the session opened by the other login ended.
    const claims = claimsOf(activated.body.data.access_token)
    expect(claims).toMatchObject({ sid: claimsOf(user.tokens.access_token)['sid'], acr: 'aal2', amr: ['pwd', 'otp'] })
    expect((await api.me(activated.body.data.access_token)).status).toBe(200)
    expect((await api.me(other.body.data.access_token)).body.reason).toBe('session_ended')
    expect((await api.mfa.status(activated.body.data.access_token)).body.data).toMatchObject({
      enabled: true,
      factors: [{ id: factor_id, status: 'active' }],
      recovery_codes_left: 10,
    })
    // One factor: another enrolment is refused.
    expect((await api.mfa.enrol(activated.body.data.access_token)).body.reason).toBe('mfa_already_enabled')
  })

  it('asks for the current password once the sign-in is older than STEP_UP_MAX_AGE, with the RFC 9470 challenge', async () => {
    const user = await registerUser()
    await getApp().sql`update attune.session set auth_time = now() - interval '10 minutes' where identity_id = ${user.identityId}`
    const stale = await api.mfa.enrol(user.tokens.access_token)
    expect({ status: stale.status, reason: stale.body.reason }).toEqual({ status: 401, reason: 'step_up_required' })
    expect(stale.headers['WWW-Authenticate']).toBe('Bearer realm="attune-auth", error="insufficient_user_authentication", max_age=300')
    expect((await api.mfa.enrol(user.tokens.access_token, { current_password: 'not the password' })).body.reason).toBe(
      'invalid_current_password',
    )
    expect((await api.mfa.enrol(user.tokens.access_token, { current_password: user.password })).status).toBe(201)
  })
})

describe('signing in with a second factor', () => {
  it('answers mfa_required and no token to the password, and the aal2 pair to a code', async () => {
    const user = await enrolledUser()
    const login = await api.login({ login: user.login, password: user.password })
    expect(login.body.data).toEqual({
      mfa_required: true,
      mfa_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      methods: ['totp', 'recovery_code'],
      expires_in: 300,
    })
    // The code that activated the factor is spent; the next step's code passes.
    expect((await api.mfa.verify({ mfa_token: login.body.data.mfa_token, code: codeOf(user.secret) })).body.reason).toBe('mfa_code_invalid')
    later()
    const verified = await api.mfa.verify({ mfa_token: login.body.data.mfa_token, code: codeOf(user.secret) })
    expect(verified.body.data).toEqual(TOKEN_PAIR)
    expect(claimsOf(verified.body.data.access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp'] })
    // A refresh copies the session's assurance from its row.
    const refreshed = await api.refresh({ refresh_token: verified.body.data.refresh_token })
    expect(claimsOf(refreshed.body.data.access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp'] })
    // The mfa_token was spent: the same code, or any other, no longer passes with it.
    expect((await api.mfa.verify({ mfa_token: login.body.data.mfa_token, code: codeOf(user.secret) })).body.reason).toBe(
      'mfa_token_invalid',
    )
  })

  it('refuses a code replayed within its window, even with a new mfa_token', async () => {
    const user = await enrolledUser()
    later()
    const code = codeOf(user.secret)
    expect((await api.mfa.verify({ mfa_token: await challenge(user), code })).status).toBe(200)
    expect((await api.mfa.verify({ mfa_token: await challenge(user), code })).body.reason).toBe('mfa_code_invalid')
  })

  it('lets exactly one of two racing verifications with the same token and code sign in', async () => {
    const user = await enrolledUser()
    later()
    const mfa_token = await challenge(user)
    const code = codeOf(user.secret)
    const answers = await Promise.all([api.mfa.verify({ mfa_token, code }), api.mfa.verify({ mfa_token, code })])
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401])
    // State: one new session (the activation's, and this one), no challenge left.
    const [sessions] = await getApp().sql`
      select count(*)::int as n from attune.session where identity_id = ${user.identityId} and revoked is null`
    expect(sessions).toEqual({ n: 2 })
    const [challenges] = await getApp().sql`select count(*)::int as n from attune.mfa_challenge where identity_id = ${user.identityId}`
    expect(challenges).toEqual({ n: 0 })
  })

  it('accepts each recovery code once, and spends the mfa_token after five wrong codes', async () => {
    const user = await enrolledUser()
    const [first = ''] = user.recoveryCodes
    const signedIn = await api.mfa.verify({ mfa_token: await challenge(user), recovery_code: first.toUpperCase() })
    expect(claimsOf(signedIn.body.data.access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'rc'] })
    expect((await api.mfa.verify({ mfa_token: await challenge(user), recovery_code: first })).body.reason).toBe('mfa_code_invalid')
    expect((await api.mfa.status(signedIn.body.data.access_token)).body.data.recovery_codes_left).toBe(9)

    const mfa_token = await challenge(user)
    for (let i = 0; i < 4; i++) expect((await api.mfa.verify({ mfa_token, code: '000000' })).body.reason).toBe('mfa_code_invalid')
    later()
    // The fifth attempt was the last: even the right code is refused with this token.
    expect((await api.mfa.verify({ mfa_token, code: '000000' })).body.reason).toBe('mfa_code_invalid')
    expect((await api.mfa.verify({ mfa_token, code: codeOf(user.secret) })).body.reason).toBe('mfa_token_invalid')
  })

  it('tells the account’s verified address when a recovery code is spent, and nothing for a code', async () => {
    const user = await verifiedUser()
    const enrolment = await api.mfa.enrol(user.tokens.access_token)
    const activated = await api.mfa.activate(user.tokens.access_token, enrolment.body.data.factor_id, {
      code: codeOf(enrolment.body.data.secret),
    })
    const notices = async () => (await queuedMails(user.email)).filter((mail) => mail.template === 'recovery_code_used')
    later()
    expect((await api.mfa.verify({ mfa_token: await challenge(user), code: codeOf(enrolment.body.data.secret) })).status).toBe(200)
    expect(await notices()).toEqual([])
    const [code] = activated.body.data.recovery_codes
    expect((await api.mfa.verify({ mfa_token: await challenge(user), recovery_code: code })).status).toBe(200)
    expect(await notices()).toEqual([expect.objectContaining({ template: 'recovery_code_used', data: {} })])
  })

  it('throttles wrong codes per identity in their own pool: 429 after ten, the password pool untouched', async () => {
    const user = await enrolledUser()
    for (let i = 0; i < 10; i++) {
      const res = await api.mfa.verify({ mfa_token: await challenge(user), code: '000000' })
      expect(res.body.reason).toBe('mfa_code_invalid')
    }
    later()
    const throttled = await api.mfa.verify({ mfa_token: await challenge(user), code: codeOf(user.secret) })
    expect({ status: throttled.status, reason: throttled.body.reason }).toEqual({ status: 429, reason: 'too_many_attempts' })
    expect(Number(throttled.headers['Retry-After'])).toBeGreaterThan(0)
    // The password still answers (its pool is separate): a challenge, not a 429.
    expect((await api.login({ login: user.login, password: user.password })).body.data.mfa_required).toBe(true)
  })

  it('refuses the challenge once the password changed after it was opened', async () => {
    const user = await enrolledUser()
    const mfa_token = await challenge(user)
    const changed = await api.changePassword(user.tokens.access_token, {
      current_password: user.password,
      new_password: 'another strong passphrase 42',
    })
    expect(changed.status).toBe(200)
    later()
    expect((await api.mfa.verify({ mfa_token, code: codeOf(user.secret) })).body.reason).toBe('mfa_token_invalid')
  })
})

describe('managing the factor', () => {
  it('removes it only with a fresh code; logins then answer tokens again', async () => {
    const user = await enrolledUser()
    const token = user.tokens.access_token
    expect((await api.mfa.remove(token, randomUUID(), { code: '123456' })).body.reason).toBe('mfa_factor_not_found')
    expect((await api.mfa.remove(token, user.factorId, { code: codeOf(user.secret) })).body.reason).toBe('mfa_code_invalid')
    later()
    // A UUID in upper case is the same id (found by the fuzz tests: it was a 404).
    expect((await api.mfa.remove(token, user.factorId.toUpperCase(), { code: codeOf(user.secret) })).body.data).toEqual({ removed: true })
    expect((await api.mfa.status(token)).body.data).toEqual({ enabled: false, factors: [], recovery_codes_left: 0 })
    expect((await api.login({ login: user.login, password: user.password })).body.data).toEqual(TOKEN_PAIR)
    const events = await getApp().sql`
      select type from attune.audit_event where identity_id = ${user.identityId} and type like 'mfa.%' order by id`
    expect(events.map((e) => e['type'])).toEqual(['mfa.enabled', 'mfa.disabled'])
  })

  it('lets a user who lost the device step up and remove the factor with recovery codes', async () => {
    const user = await enrolledUser()
    const [first = '', second = ''] = user.recoveryCodes
    const stepped = await api.reauthenticate(user.tokens.access_token, { recovery_code: first })
    expect(claimsOf(stepped.body.data.access_token)).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'rc'] })
    expect((await api.mfa.remove(stepped.body.data.access_token, user.factorId, { recovery_code: second })).body.data).toEqual({
      removed: true,
    })
    expect((await api.mfa.status(stepped.body.data.access_token)).body.data.enabled).toBe(false)
  })

  it('renews the recovery codes with a fresh code: the old ones stop working', async () => {
    const user = await enrolledUser()
    later()
    const renewed = await api.mfa.recoveryCodes(user.tokens.access_token, { code: codeOf(user.secret) })
    expect(renewed.body.data.recovery_codes).toHaveLength(10)
    expect((await api.mfa.verify({ mfa_token: await challenge(user), recovery_code: user.recoveryCodes[0] })).body.reason).toBe(
      'mfa_code_invalid',
    )
    expect((await api.mfa.verify({ mfa_token: await challenge(user), recovery_code: renewed.body.data.recovery_codes[0] })).status).toBe(
      200,
    )
  })
})

describe('reauthenticating and stepping up', () => {
  it('raises auth_time with the password and acr with a code, rotating the refresh token in the same statement', async () => {
    const user = await registerUser()
    await getApp().sql`update attune.session set auth_time = now() - interval '1 hour' where identity_id = ${user.identityId}`
    const before = claimsOf((await api.refresh({ refresh_token: user.tokens.refresh_token })).body.data.access_token)
    const pair = await api.reauthenticate(user.tokens.access_token, { password: user.password })
    expect(pair.body.data).toEqual(TOKEN_PAIR)
    const after = claimsOf(pair.body.data.access_token)
    expect(after).toMatchObject({ acr: 'aal1', amr: ['pwd'] })
    expect(Number(after['auth_time'])).toBeGreaterThan(Number(before['auth_time']) + 3000)
    expect((await api.reauthenticate(user.tokens.access_token, { code: '123456' })).body.reason).toBe('mfa_factor_not_found')
  })

  it('never lets a refresh token from before a step-up mint a pair: presented again, it ends the session', async () => {
    const user = await registerUser()
    const enrolment = await api.mfa.enrol(user.tokens.access_token)
    const activated = await api.mfa.activate(user.tokens.access_token, enrolment.body.data.factor_id, {
      code: codeOf(enrolment.body.data.secret),
    })
    expect(claimsOf(activated.body.data.access_token)['acr']).toBe('aal2')
    // The aal1 refresh token from before: a replay, even within the grace window.
    const replay = await api.refresh({ refresh_token: user.tokens.refresh_token })
    expect({ status: replay.status, reason: replay.body.reason }).toEqual({ status: 401, reason: 'refresh_token_reused' })
    // State: the session is gone, so the aal2 pair stops working too.
    expect((await api.me(activated.body.data.access_token)).body.reason).toBe('session_ended')
    expect((await api.refresh({ refresh_token: activated.body.data.refresh_token })).status).toBe(401)
  })
})

describe('password reset on an account with a second factor', () => {
  it('needs a code or a recovery code beside the mailed token, and keeps the token for a retry', async () => {
    const user = await verifiedUser()
    const enrolment = await api.mfa.enrol(user.tokens.access_token)
    await api.mfa.activate(user.tokens.access_token, enrolment.body.data.factor_id, { code: codeOf(enrolment.body.data.secret) })
    expect((await api.forgotPassword({ login: user.login })).status).toBe(202)
    const token = await queuedToken(user.email, 'password_reset')
    const new_password = 'a brand new passphrase 77'
    const bare = await api.resetPassword({ token, new_password })
    expect({ status: bare.status, reason: bare.body.reason }).toEqual({ status: 401, reason: 'mfa_code_invalid' })
    expect((await api.resetPassword({ token, new_password, code: '000000' })).body.reason).toBe('mfa_code_invalid')
    later()
    expect((await api.resetPassword({ token, new_password, code: codeOf(enrolment.body.data.secret) })).status).toBe(200)
    expect((await api.login({ login: user.login, password: new_password })).body.data.mfa_required).toBe(true)
  })
})
