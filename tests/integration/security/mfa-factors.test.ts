/**
 * Two-factor rules on the real database (lib/mfa/factors.ts, lib/mfa/challenges.ts over lib/db/mfa.ts), with
 * codes computed from the secret by an independent RFC 6238 implementation (tests/support/totp-reference.ts),
 * never by the library under test. Races assert the state afterwards: which step is spent, which codes are left.
 */
import { randomBytes } from 'node:crypto'
import { ApiError } from '@attune-auth/client/errors'
import { beforeAll, describe, expect, it } from 'vitest'
import { getApp } from '../../../lib/app.js'
import type { Origin } from '../../../lib/audit/events.js'
import { createMfaRepository } from '../../../lib/db/mfa.js'
import { createChallengeRepository } from '../../../lib/db/mfa-challenges.js'
import { createChallenges, MFA_TOKEN_MAX_ATTEMPTS } from '../../../lib/mfa/challenges.js'
import type { MfaRules } from '../../../lib/mfa/factors.js'
import { createMfaRules } from '../../../lib/mfa/factors.js'
import { openSecret, parseMfaKeys, SecretBoxError } from '../../../lib/mfa/secret-box.js'
import { passwordHashing } from '../../../lib/passwords/hashing.js'
import type { RegisteredUser } from '../../support/api.js'
import { registerUser } from '../../support/api.js'
import { referenceStep, referenceTotp } from '../../support/totp-reference.js'

const sql = () => getApp().sql
const origin: Origin = { requestId: 'test', sourceIp: '192.0.2.7', userAgent: 'mfa test' }
const keyring = parseMfaKeys(`k1:${randomBytes(32).toString('base64')}`)

/** A clock the test moves, 30-second steps at a time. */
let clock = Date.UTC(2026, 11, 2, 12, 0, 0)
const later = (steps: number) => {
  clock += steps * 30_000
}
const repository = () => createMfaRepository(sql())
const rules = (): MfaRules =>
  createMfaRules({ mfa: repository(), keyring, passwords: passwordHashing, issuer: 'Attune Auth', now: () => clock })
const codeNow = (secret: string, offset = 0) => referenceTotp(secret, referenceStep(clock) + offset)
const reasonOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof ApiError ? error.reason : String(error)),
  )

/** A user with an active TOTP factor: its secret and recovery codes. */
async function enrolled(): Promise<{ user: RegisteredUser; secret: string; factorId: string; recoveryCodes: string[] }> {
  const user = await registerUser()
  const enrolment = await rules().enrolTotp(user.identityId, user.login)
  const { recovery_codes } = await rules().activateTotp(user.identityId, enrolment.factor_id, codeNow(enrolment.secret), origin)
  return { user, secret: enrolment.secret, factorId: enrolment.factor_id, recoveryCodes: recovery_codes }
}

describe('TOTP enrolment and activation', () => {
  let user: RegisteredUser

  beforeAll(async () => {
    user = await registerUser()
  })

  it('answers a secret and an otpauth URI, keeps the secret sealed, and activates with a first code', async () => {
    const enrolment = await rules().enrolTotp(user.identityId, user.login)
    expect(enrolment).toMatchObject({ factor_id: expect.any(String), expires_in: 600 })
    expect(enrolment.otpauth_uri).toContain(`secret=${enrolment.secret}`)
    expect(enrolment.otpauth_uri).toMatch(/^otpauth:\/\/totp\/Attune%20Auth:.*issuer=Attune%20Auth.*algorithm=SHA1.*digits=6.*period=30/)
    const [row] = await sql()<{ secret_sealed: string; status: string }[]>`
      select secret_sealed, status from attune.mfa_factor where id = ${enrolment.factor_id}`
    expect(row?.status).toBe('pending')
    expect(row?.secret_sealed).not.toContain(enrolment.secret)
    // Sealed for this factor only: the factor id is the associated data.
    expect(openSecret(keyring, row?.secret_sealed ?? '', enrolment.factor_id)).toBe(enrolment.secret)
    expect(() => openSecret(keyring, row?.secret_sealed ?? '', 'another-factor')).toThrow(SecretBoxError)

    expect(await reasonOf(rules().activateTotp(user.identityId, enrolment.factor_id, '000000', origin))).toBe('mfa_code_invalid')
    expect(await reasonOf(rules().activateTotp(user.identityId, enrolment.factor_id, codeNow(enrolment.secret, 1), origin))).toBe(
      'mfa_code_invalid',
    )
    const { recovery_codes } = await rules().activateTotp(user.identityId, enrolment.factor_id, codeNow(enrolment.secret), origin)
    expect(recovery_codes).toHaveLength(10)
    expect(new Set(recovery_codes).size).toBe(10)
    for (const code of recovery_codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/)
    expect(await rules().required(user.identityId)).toBe(true)
    expect(await rules().recoveryCodesLeft(user.identityId)).toBe(10)
    // Stored as Argon2id hashes, never as the codes.
    const stored = await sql()<
      { code_hash: string }[]
    >`select code_hash from attune.mfa_recovery_code where identity_id = ${user.identityId}`
    for (const { code_hash } of stored) expect(code_hash).toMatch(/^\$argon2id\$/)
    const events = await sql()`select type, data from attune.audit_event where identity_id = ${user.identityId} and type = 'mfa.enabled'`
    expect(events).toEqual([{ type: 'mfa.enabled', data: { factor_id: enrolment.factor_id, kind: 'totp' } }])
    // One active factor: a second enrolment is refused.
    expect(await reasonOf(rules().enrolTotp(user.identityId, user.login))).toBe('mfa_already_enabled')
  })

  it('refuses an enrolment that expired, another identity’s enrolment, and a second activation of the same one', async () => {
    const other = await registerUser()
    const enrolment = await rules().enrolTotp(other.identityId, other.login)
    expect(await reasonOf(rules().activateTotp(user.identityId, enrolment.factor_id, codeNow(enrolment.secret), origin))).toBe(
      'mfa_factor_not_found',
    )
    await sql()`update attune.mfa_factor set created = now() - interval '11 minutes' where id = ${enrolment.factor_id}`
    expect(await reasonOf(rules().activateTotp(other.identityId, enrolment.factor_id, codeNow(enrolment.secret), origin))).toBe(
      'mfa_factor_not_found',
    )
    const fresh = await rules().enrolTotp(other.identityId, other.login)
    // Two activations racing with the same good code: one activates, the other is told it is on already.
    const outcomes = await Promise.all(
      [0, 1].map(() => reasonOf(rules().activateTotp(other.identityId, fresh.factor_id, codeNow(fresh.secret), origin))),
    )
    expect(outcomes.sort()).toEqual(['mfa_already_enabled', 'resolved'])
    const factors = await sql()`select status from attune.mfa_factor where identity_id = ${other.identityId}`
    expect(factors).toEqual([{ status: 'active' }])
    expect(await rules().recoveryCodesLeft(other.identityId)).toBe(10)
  })
})

describe('checking a second factor', () => {
  it('never accepts the activation code again, accepts a new step once, and never an older step after it', async () => {
    const { user, secret } = await enrolled()
    const verify = (code: string) => rules().verify(user.identityId, { code }, origin)
    expect(await verify(codeNow(secret))).toBeUndefined() // the code that activated the factor
    later(1)
    expect(await verify(codeNow(secret, 1))).toBeUndefined() // the next step: never accepted early
    expect(await verify(codeNow(secret))).toBe('otp')
    expect(await verify(codeNow(secret))).toBeUndefined() // replayed within its window
    later(1)
    expect(await verify(codeNow(secret, -1))).toBeUndefined() // the previous step, spent already
    expect(await verify('12345')).toBeUndefined()
    expect(await verify(codeNow(secret))).toBe('otp')
  })

  it('lets exactly one of two racing requests spend a code, and spends its step', async () => {
    const { user, secret, factorId } = await enrolled()
    later(1)
    const code = codeNow(secret)
    const outcomes = await Promise.all([0, 1, 2].map(() => rules().verify(user.identityId, { code }, origin)))
    expect(outcomes.filter((o) => o === 'otp')).toHaveLength(1)
    const [row] = await sql()<{ last_used_step: string }[]>`select last_used_step from attune.mfa_factor where id = ${factorId}`
    expect(Number(row?.last_used_step)).toBe(referenceStep(clock))
  })

  it('accepts each recovery code once, as typed by a person, and audits its use', async () => {
    const { user, recoveryCodes } = await enrolled()
    const [first = '', second = ''] = recoveryCodes
    const typed = ` ${first.toUpperCase().replace('-', ' ')} `
    expect(await rules().verify(user.identityId, { recoveryCode: typed }, origin)).toBe('rc')
    expect(await rules().verify(user.identityId, { recoveryCode: first }, origin)).toBeUndefined()
    expect(await rules().verify(user.identityId, { recoveryCode: 'zzzzz-zzzzz' }, origin)).toBeUndefined()
    // Racing with the same code: one succeeds.
    const outcomes = await Promise.all([0, 1].map(() => rules().verify(user.identityId, { recoveryCode: second }, origin)))
    expect(outcomes.filter((o) => o === 'rc')).toHaveLength(1)
    expect(await rules().recoveryCodesLeft(user.identityId)).toBe(8)
    const events =
      await sql()`select count(*)::int as n from attune.audit_event where identity_id = ${user.identityId} and type = 'mfa.recovery_code_used'`
    expect(events).toEqual([{ n: 2 }])
    // Another identity's codes are not this one's.
    const stranger = await enrolled()
    expect(await rules().verify(stranger.user.identityId, { recoveryCode: recoveryCodes[2] ?? '' }, origin)).toBeUndefined()
  })
})

describe('login challenges (the mfa_token)', () => {
  it('allows five attempts, is spent once, expires, and knows nothing of a forged token', async () => {
    const challenges = createChallenges(createChallengeRepository(sql()))
    const user = await registerUser()
    const state = { identityId: user.identityId, credentialsVersion: 1, firstFactor: 'pwd' as const }
    const opened = await challenges.open(state)
    expect(opened).toMatchObject({ mfa_required: true, methods: ['totp', 'recovery_code'], expires_in: 300 })
    expect(opened.mfa_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    // Only its hash is stored.
    const stored = await sql()<
      { n: number }[]
    >`select count(*)::int as n from attune.mfa_challenge where encode(token_hash, 'escape') like ${`%${opened.mfa_token}%`}`
    expect(stored).toEqual([{ n: 0 }])
    for (let i = 0; i < MFA_TOKEN_MAX_ATTEMPTS; i++) expect(await challenges.attempt(opened.mfa_token)).toEqual(state)
    expect(await challenges.attempt(opened.mfa_token)).toBeUndefined()

    const second = await challenges.open(state)
    expect(await Promise.all([challenges.close(second.mfa_token), challenges.close(second.mfa_token)])).toEqual(
      expect.arrayContaining([true, false]),
    )
    expect(await challenges.attempt(second.mfa_token)).toBeUndefined()

    const third = await challenges.open(state)
    await sql()`update attune.mfa_challenge set expires = now() - interval '1 second' where identity_id = ${user.identityId}`
    expect(await challenges.attempt(third.mfa_token)).toBeUndefined()
    expect(await challenges.attempt('not-a-token')).toBeUndefined()
    expect(await challenges.attempt('A'.repeat(43))).toBeUndefined()
  })
})
