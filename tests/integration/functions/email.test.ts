/**
 * Email addresses: pending until verified, verified once, changed with the password, sent again, and used to
 * log in. Each test asserts the state afterwards: which address the account has, what was queued to whom.
 */
import { describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import { hashEmailToken, newEmailToken } from '../../../lib/email/tokens.js'
import { api, queuedMails, queuedToken, registerUser, uniqueEmail, verifiedUser } from '../../support/api.js'
import { uniqueLogin } from '../../support/events.js'

const templatesTo = async (email: string) => (await queuedMails(email)).map((mail) => mail.template)
const emailOf = async (identityId: number) => (await getApp().sql`select email from attune.identity where id = ${identityId}`)[0]?.['email']

describe('an address given at registration', () => {
  it('is pending until its link is used: /auth/me shows it unverified, then verified', async () => {
    const email = uniqueEmail()
    const user = await registerUser({ email })
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({ email, email_verified: false })
    expect(await emailOf(user.identityId)).toBeNull()
    expect(await templatesTo(email)).toEqual(['verify_email'])
    const [mail] = await queuedMails(email)
    expect(mail?.data).toMatchObject({
      link: expect.stringMatching(/^https:\/\/app\.attune\.test\/verify-email#token=[A-Za-z0-9_-]{43}$/),
      expires_hours: 24,
    })

    const verified = await api.verifyEmail({ token: await queuedToken(email, 'verify_email') })
    expect({ status: verified.status, body: verified.body }).toEqual({ status: 200, body: { data: { email, email_verified: true } } })
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({ email, email_verified: true })
    const events = await getApp().sql`
      select type from attune.audit_event where identity_id = ${user.identityId} and type like 'email.%' order by id`
    expect(events.map((e) => e['type'])).toEqual(['email.verification_requested', 'email.verified'])
  })

  it("is never the account's when it is another account's verified address: that address is told, the answer is the same", async () => {
    const owner = await verifiedUser('owner')
    const squatter = await registerUser({ email: owner.email.toUpperCase() })
    expect((await api.me(squatter.tokens.access_token)).body.data).toMatchObject({ email: null, email_verified: false })
    expect(await templatesTo(owner.email)).toEqual(['verify_email', 'email_in_use'])
    expect(await getApp().sql`select 1 from attune.email_token where identity_id = ${squatter.identityId}`).toEqual([])
  })

  it.each([
    ['a header injection', 'a@example.com\r\nBcc: victim@example.com', 'email must not contain control characters or line breaks'],
    ['a display-name form', 'Eve <eve@example.com>', 'email must be an email address'],
    ['no domain', 'eve@', 'email must be an email address'],
    ['an over-long address', `${'a'.repeat(60)}@${'b'.repeat(190)}.com`, 'email must be at most 254 characters'],
    ['a local part over 64', `${'a'.repeat(65)}@example.com`, 'email must have at most 64 characters before the @'],
    ['a non-string', 42, 'email must be a string'],
  ])('is refused when it is %s: 400, no account, nothing queued', async (_, email, error) => {
    const login = uniqueLogin()
    const res = await api.register({ login, password: 'securepassword123', email })
    expect(res).toMatchObject({ status: 400, body: { error, code: 'BAD_REQUEST', reason: 'invalid_field' } })
    expect(await getApp().sql`select 1 from attune.identity where login = ${login}`).toEqual([])
    expect(await getApp().sql`select 1 from attune.outbox where recipient like '%victim@example.com%' or recipient like '%eve@%'`).toEqual(
      [],
    )
  })
})

describe('POST /auth/email/verify', () => {
  it('accepts a token once; refuses expired, reset and unknown tokens', async () => {
    const email = uniqueEmail()
    const user = await registerUser({ email })
    const token = await queuedToken(email, 'verify_email')
    await getApp().sql`update attune.email_token set expires = now() - interval '1 second' where token_hash = ${hashEmailToken(token)}`
    expect((await api.verifyEmail({ token })).body.reason).toBe('email_token_invalid')
    await getApp().sql`update attune.email_token set expires = now() + interval '1 hour' where token_hash = ${hashEmailToken(token)}`
    const reset = newEmailToken()
    await getApp().sql`
      insert into attune.email_token (token_hash, identity_id, purpose, email, expires)
      values (${reset.hash}, ${user.identityId}, 'password_reset', ${email}, now() + interval '1 hour')`
    for (const wrong of [reset.token, newEmailToken().token, 'not-a-token']) {
      expect((await api.verifyEmail({ token: wrong })).body.reason, wrong).toBe('email_token_invalid')
    }
    expect(await emailOf(user.identityId)).toBeNull()
    expect((await api.verifyEmail({ token })).status).toBe(200)
    expect((await api.verifyEmail({ token })).body.reason).toBe('email_token_invalid')
    expect(await emailOf(user.identityId)).toBe(email)
  })

  it('gives an address to the first of two accounts that verify it; the second gets 409 and no address', async () => {
    const email = uniqueEmail('contested')
    const first = await registerUser({ email })
    const firstToken = await queuedToken(email, 'verify_email')
    const second = await registerUser({ email })
    const secondToken = await queuedToken(email, 'verify_email')
    expect((await api.verifyEmail({ token: firstToken })).status).toBe(200)
    const late = await api.verifyEmail({ token: secondToken })
    expect({ status: late.status, body: late.body }).toEqual({
      status: 409,
      body: { error: 'This email address now belongs to another account', code: 'CONFLICT', reason: 'email_taken' },
    })
    expect([await emailOf(first.identityId), await emailOf(second.identityId)]).toEqual([email, null])
  })
})

describe('POST /auth/email', () => {
  it('needs the current password; a link goes to the new address and a notice to the old; the address changes when verified', async () => {
    const user = await verifiedUser()
    const next = uniqueEmail('next')
    const wrong = await api.changeEmail(user.tokens.access_token, { email: next, current_password: 'not-the-password' })
    expect(wrong.body.reason).toBe('invalid_current_password')
    expect(await templatesTo(next)).toEqual([])

    const res = await api.changeEmail(user.tokens.access_token, { email: next, current_password: user.password })
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { data: { accepted: true } } })
    expect(await templatesTo(next)).toEqual(['verify_email'])
    expect(await templatesTo(user.email)).toEqual(['verify_email', 'email_change_notice'])
    // Until the link is used, the verified address stays the account's.
    expect((await api.me(user.tokens.access_token)).body.data).toMatchObject({ email: user.email, email_verified: true })
    expect((await api.verifyEmail({ token: await queuedToken(next, 'verify_email') })).status).toBe(200)
    expect(await emailOf(user.identityId)).toBe(next)
    expect((await api.login({ login: next, password: user.password })).status).toBe(200)
    expect((await api.login({ login: user.email, password: user.password })).status).toBe(401)
  })

  it("answers the same for another account's verified address, tells that address, and gives the asker no link", async () => {
    const owner = await verifiedUser('owner')
    const asker = await verifiedUser('asker')
    const res = await api.changeEmail(asker.tokens.access_token, { email: owner.email, current_password: asker.password })
    expect({ status: res.status, body: res.body }).toEqual({ status: 202, body: { data: { accepted: true } } })
    expect(await templatesTo(owner.email)).toEqual(['verify_email', 'email_in_use'])
    expect(
      await getApp().sql`select 1 from attune.email_token where identity_id = ${asker.identityId} and purpose = 'verify_email'`,
    ).toEqual([])
    expect(await emailOf(asker.identityId)).toBe(asker.email)
  })

  it('ends the session that keeps guessing the current password, as change-password does', async () => {
    const user = await verifiedUser()
    const free = getApp().config.throttle.account.free
    const reasons: string[] = []
    for (let i = 0; i < free; i++) {
      const res = await api.changeEmail(user.tokens.access_token, { email: uniqueEmail('next'), current_password: `guess-${i}-wrong` })
      reasons.push(res.body.reason)
    }
    expect(reasons).toEqual([...Array(free - 1).fill('invalid_current_password'), 'session_ended'])
    // The session is gone: its token is refused, and the ending is audited.
    expect((await api.me(user.tokens.access_token)).body.reason).toBe('session_ended')
    const [ended] = await getApp().sql`
      select data->>'reason' as reason from attune.audit_event where identity_id = ${user.identityId} and type = 'session.ended'`
    expect(ended).toEqual({ reason: 'password_guessing' })
  })

  it('refuses malformed addresses with 400, queueing nothing', async () => {
    const user = await verifiedUser()
    const res = await api.changeEmail(user.tokens.access_token, {
      email: 'x@example.com\nBcc: y@example.com',
      current_password: user.password,
    })
    expect(res).toMatchObject({ status: 400, body: { reason: 'invalid_field' } })
    expect(await templatesTo(user.email)).toEqual(['verify_email'])
  })
})

describe('POST /auth/email/resend', () => {
  it('sends a new link (the old one stops working), at most one a minute, and nothing when no address is pending', async () => {
    const email = uniqueEmail()
    const user = await registerUser({ email })
    const first = await queuedToken(email, 'verify_email')
    // The registration's mail does not count against the limit; a resend does.
    expect((await api.resendVerification(user.tokens.access_token)).status).toBe(202)
    const second = await queuedToken(email, 'verify_email')
    expect(second).not.toBe(first)
    expect((await api.resendVerification(user.tokens.access_token)).status).toBe(202)
    expect(await templatesTo(email)).toEqual(['verify_email', 'verify_email'])
    expect((await api.verifyEmail({ token: first })).body.reason).toBe('email_token_invalid')
    expect((await api.verifyEmail({ token: second })).status).toBe(200)

    const nobody = await registerUser()
    expect((await api.resendVerification(nobody.tokens.access_token)).status).toBe(202)
    expect(
      await getApp()
        .sql`select 1 from attune.audit_event where identity_id = ${nobody.identityId} and type = 'email.verification_requested'`,
    ).toEqual([])
    expect(await getApp().sql`select 1 from attune.email_token where identity_id = ${nobody.identityId}`).toEqual([])
  })
})

describe('POST /auth/login with an email address', () => {
  it('logs in with the verified address in any letter case, never with a pending one', async () => {
    const user = await verifiedUser()
    expect((await api.login({ login: user.email.toUpperCase(), password: user.password })).status).toBe(200)
    const pendingEmail = uniqueEmail('pending')
    const pending = await registerUser({ email: pendingEmail })
    const refused = await api.login({ login: pendingEmail, password: pending.password })
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: 401,
      body: { error: 'Invalid login or password', code: 'UNAUTHORIZED', reason: 'invalid_credentials' },
    })
    expect((await api.login({ login: uniqueEmail('nobody'), password: 'whatever-password' })).body.reason).toBe('invalid_credentials')
  })

  it('counts failures by address and by login against one account', async () => {
    const user = await verifiedUser()
    const free = getApp().config.throttle.account.free
    for (let i = 0; i < free; i++) {
      const via = i % 2 === 0 ? user.email : user.login
      expect((await api.login({ login: via, password: `wrong-guess-${i}` })).status).toBe(401)
    }
    // The account now waits: the right password, by login or by address, is refused until the wait ends.
    expect((await api.login({ login: user.login, password: user.password })).status).toBe(429)
    expect((await api.login({ login: user.email, password: user.password })).status).toBe(429)
  })
})
