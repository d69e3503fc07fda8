/**
 * The two-factor routes' generated inputs (tests/integration/property/mfa-endpoints.test.ts): 6-digit codes and
 * their near misses, recovery codes (`xxxxx-xxxxx` in lowercase Crockford base32) as issued, as typed and nearly,
 * mfa_tokens, factor ids; and the live values behind the two-factor refs of tests/support/fuzz/refs.ts.
 *
 * The fuzz users' factors are turned on through the real handlers (POST /auth/mfa/totp, then activate with the
 * current code of tests/support/totp-reference.ts, an independent RFC 6238). A case resolves `totpCode` to the code
 * of the current 30-second step of its factor (accepted once per step: later cases in the same step meet a spent
 * step), `recoveryCode` to one of its user's unspent recovery codes (renewed when they run out), `mfaToken` to the
 * token of a real login of the user. After the case, `settle` puts back what the case changed: a removed factor is
 * turned on again, an activated one (on the user meant to have none) is removed, a spent recovery code is dropped.
 * Each case also starts with the user's second-factor and password throttle counters at what it generated
 * (mostly clear), so a case's answer does not depend on the cases before it.
 */
import { randomUUID } from 'node:crypto'
import { UUID } from '@attune-auth/client/ids'
import fc from 'fast-check'
import { getApp } from '../../../lib/app.js'
import { createMfaRepository, type MfaRepository } from '../../../lib/db/mfa.js'
import type { MfaRules } from '../../../lib/mfa/factors.js'
import { mfaParts } from '../../../lib/mfa/parts.js'
import { passwordHashing } from '../../../lib/passwords/hashing.js'
import { api } from '../api.js'
import { referenceStep, referenceTotp } from '../totp-reference.js'
import type { FuzzUser } from './case-context.js'
import { openSession } from './case-context.js'
import { type RefName, ref } from './refs.js'
import { field, weirdString } from './values.js'

/** Where the harness's own two-factor changes come from (their audit events say so). */
const FUZZ_ORIGIN = { requestId: null, userAgent: 'fuzz', sourceIp: null }

// --- Values ------------------------------------------------------------------------------------------------

/** Six ASCII digits: what every code field takes. */
export const sixDigits = fc.stringMatching(/^[0-9]{6}$/)

/** Codes that are nearly 6 digits: too short or long, spaced, signed, other scripts' digits, a JSON number. */
export const codeNearMiss: fc.Arbitrary<unknown> = fc.oneof(
  fc.stringMatching(/^[0-9]{1,5}$/),
  fc.stringMatching(/^[0-9]{7,9}$/),
  sixDigits.map((c) => ` ${c}`),
  sixDigits.map((c) => `${c}\n`),
  sixDigits.map((c) => `${c.slice(0, 3)} ${c.slice(3)}`),
  sixDigits.map((c) => `${c.slice(0, 3)}-${c.slice(3)}`),
  sixDigits.map((c) => `${c}\u0000`),
  // Fullwidth, Arabic-Indic and Devanagari digits: \d in a Unicode regex would take them.
  sixDigits.map((c) => [...c].map((d) => String.fromCodePoint(0xff10 + Number(d))).join('')),
  sixDigits.map((c) => [...c].map((d) => String.fromCodePoint(0x0660 + Number(d))).join('')),
  sixDigits.map((c) => [...c].map((d) => String.fromCodePoint(0x0966 + Number(d))).join('')),
  fc.constantFrom('', '+12345', '-12345', '1e5', '0x1234', '12345a', '１23456', 'NaN'),
  fc.integer({ min: 0, max: 999_999 }),
)

/** Crockford's base32 in lowercase: the recovery codes' alphabet (no i, l, o, u). */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const group = fc.string({ unit: fc.constantFrom(...RECOVERY_ALPHABET), minLength: 5, maxLength: 5 })

/** A recovery code as issued, `xxxxx-xxxxx`: well-formed, but not one of the user's (never issued, or long spent). */
export const plausibleRecoveryCode: fc.Arbitrary<string> = fc.tuple(group, group).map(([a, b]) => `${a}-${b}`)

/**
 * Recovery codes as a person types them back (upper case, spaces for the hyphen, o for 0, i or l for 1, which the
 * service reads alike) and near misses: a letter outside the alphabet, 9 or 11 characters, tabs, other scripts,
 * at and over the 64-character bound.
 */
export const recoveryCodeNearMiss: fc.Arbitrary<string> = fc.oneof(
  plausibleRecoveryCode.map((c) => c.toUpperCase()),
  plausibleRecoveryCode.map((c) => c.replace('-', ' ')),
  plausibleRecoveryCode.map((c) => c.replace('-', '')),
  plausibleRecoveryCode.map((c) => c.replace(/0/g, 'o').replace(/1/g, 'l')),
  plausibleRecoveryCode.map((c) => `${c.slice(0, 4)}u${c.slice(5)}`),
  plausibleRecoveryCode.map((c) => c.slice(0, -1)),
  plausibleRecoveryCode.map((c) => `${c}x`),
  plausibleRecoveryCode.map((c) => c.replace('-', '\t')),
  plausibleRecoveryCode.map((c) => c.replace('-', '_')),
  plausibleRecoveryCode.map((c) => c.replace('a', 'ä')),
  fc.tuple(plausibleRecoveryCode, fc.constantFrom(64, 65)).map(([c, n]) => c.padStart(n, ' ')),
  fc.constantFrom('-', ' ', '----------', '0000000000', 'xxxxx-xxxxx-xxxxx'),
)

/** What a login's mfa_token looks like (43 base64url characters), nearly (42, 44, base64 with padding), or at the 128 bound. */
export const mfaTokenLike: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.uint8Array({ minLength: 33, maxLength: 33 }), fc.constantFrom(42, 44))
      .map(([b, n]) => Buffer.from(b).toString('base64url').slice(0, n)),
  },
  { weight: 1, arbitrary: fc.constantFrom(127, 128, 129).map((n) => 'A'.repeat(n)) },
)

/** A `code` field's plausible values: mostly the case's factor's current code, or the step before or after, or any six digits. */
export const codeValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(ref('totpCode')) },
  { weight: 1, arbitrary: fc.constantFrom(ref('previousTotpCode'), ref('nextTotpCode')) },
  { weight: 2, arbitrary: sixDigits },
  { weight: 2, arbitrary: codeNearMiss },
)

/** A `recovery_code` field's plausible values: mostly an unspent code of the user's (as issued or as typed), else well-formed or nearly. */
export const recoveryCodeValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.constant(ref('recoveryCode')) },
  { weight: 2, arbitrary: fc.constant(ref('recoveryCodeAsTyped')) },
  { weight: 2, arbitrary: plausibleRecoveryCode },
  { weight: 2, arbitrary: recoveryCodeNearMiss },
)

/** An `mfa_token` field's plausible values: mostly a real login challenge's token, now and then one out of attempts, else a made-up one. */
export const mfaTokenValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 10, arbitrary: fc.constant(ref('mfaToken')) },
  { weight: 1, arbitrary: fc.constant(ref('exhaustedMfaToken')) },
  { weight: 2, arbitrary: mfaTokenLike },
)

/** `arbitrary` or absent (`undefined` drops the key), in the given proportion. */
export function sometimes(arbitrary: fc.Arbitrary<unknown>, present: number, absent: number): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: absent, arbitrary: fc.constant(undefined) }, { weight: present, arbitrary })
}

/**
 * Credential fields of which a schema takes exactly one (`code`, `recovery_code`; `password` too on reauthenticate):
 * mostly exactly one, each in its `weight`, sometimes all of them or none. Each sent value is mostly `value`
 * (plausible), otherwise a weird string, a wrong type or absent (tests/support/fuzz/values.ts `field`).
 */
export function exactlyOneOf(
  fields: Record<string, { value: fc.Arbitrary<unknown>; weight: number }>,
): fc.Arbitrary<Record<string, unknown>> {
  const sent = Object.fromEntries(Object.entries(fields).map(([name, { value }]) => [name, field(value, { plausible: 60 })]))
  return fc.oneof(
    ...Object.entries(fields).map(([name, { weight }]) => ({
      weight,
      arbitrary: (sent[name] as fc.Arbitrary<unknown>).map((value): Record<string, unknown> => ({ [name]: value })),
    })),
    { weight: 1, arbitrary: fc.record(sent) },
    { weight: 1, arbitrary: fc.constant<Record<string, unknown>>({}) },
  )
}

/** The `{id}` of /auth/mfa/totp/{id}: the case's own factor (any case), one it replaced, another user's, an unknown UUID, junk, none. */
export type FactorIdChoice =
  | { kind: 'own'; upper: boolean }
  | { kind: 'replaced' }
  | { kind: 'other-user' }
  | { kind: 'unknown'; id: string }
  | { kind: 'junk'; id: string }
  | { kind: 'absent' }

export const factorIdChoice: fc.Arbitrary<FactorIdChoice> = fc.oneof(
  {
    weight: 28,
    arbitrary: fc
      .oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) })
      .map((upper): FactorIdChoice => ({ kind: 'own', upper })),
  },
  { weight: 2, arbitrary: fc.constantFrom<FactorIdChoice>({ kind: 'replaced' }, { kind: 'other-user' }) },
  { weight: 2, arbitrary: fc.uuid().map((id): FactorIdChoice => ({ kind: 'unknown', id })) },
  { weight: 2, arbitrary: weirdString.filter((s) => !UUID.test(s)).map((id): FactorIdChoice => ({ kind: 'junk', id })) },
  { weight: 1, arbitrary: fc.constant<FactorIdChoice>({ kind: 'absent' }) },
)

/** A path parameter as a client would put it in the URL (lone surrogates cannot be percent-encoded). */
export const inPath = (value: string | undefined): string => encodeURIComponent((value ?? '').replace(/\p{Cs}/gu, '\uFFFD'))

// --- Throttle counters ---------------------------------------------------------------------------------------

/** Failures already counted for the user when the case starts: mostly none, sometimes at and around the limits. */
export interface Pressure {
  /** In the second-factor pool (MFA_MAX_FAILURES, 10 in the tests: the 11th code is a 429). */
  mfaFailures: number
  /** In the identity's current-password pool (the 5th wrong one in a row ends the session). */
  passwordFailures: number
}

export const pressure: fc.Arbitrary<Pressure> = fc.record({
  mfaFailures: fc.oneof(
    { weight: 16, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(9, 10) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }) },
  ),
  passwordFailures: fc.oneof(
    { weight: 16, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.constantFrom(4, 5) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 8 }) },
  ),
})

/** Counts the case's prior failures, as that many wrong codes and passwords would have. */
export async function applyPressure(user: FuzzUser, { mfaFailures, passwordFailures }: Pressure): Promise<void> {
  const { throttle, throttleKeys, config } = getApp()
  for (let i = 0; i < mfaFailures; i++) await throttle.count(throttleKeys.mfa(user.identityId), config.throttle.mfa)
  for (let i = 0; i < passwordFailures; i++) await throttle.count(throttleKeys.identity(user.identityId), config.throttle.account)
}

/** Clears the user's second-factor and current-password counters, as a success would. */
export async function clearThrottles(user: FuzzUser): Promise<void> {
  const { throttle, throttleKeys } = getApp()
  await Promise.all([throttle.reset(throttleKeys.mfa(user.identityId)), throttle.reset(throttleKeys.identity(user.identityId))])
}

// --- Fuzz users and their factors ----------------------------------------------------------------------------

export interface TotpFactor {
  id: string
  /** base32, as the enrolment answered it. */
  secret: string
}

export interface MfaFuzzUser extends FuzzUser {
  /** The active factor the user is meant to have (undefined: none), kept current by `settle`. */
  factor: TotpFactor | undefined
  /** Its recovery codes not spent yet, as far as the cases know. */
  recoveryCodes: string[]
  /** Factors the user had before (removed by a case): their ids are no longer found. */
  formerFactorIds: string[]
}

let parts: { mfa: MfaRepository; factors: MfaRules } | undefined
function mfaRows(): { mfa: MfaRepository; factors: MfaRules } {
  parts ??= { mfa: createMfaRepository(getApp().sql), factors: mfaParts(getApp(), passwordHashing).factors }
  return parts
}

/** The code of `secret` at the current 30-second step (plus `offset` steps). */
export const totpCode = (secret: string, offset = 0): string => referenceTotp(secret, referenceStep(Date.now()) + offset)

/** Starts a TOTP enrolment through POST /auth/mfa/totp, with an access token of a fresh sign-in. */
export async function enrol(accessToken: string): Promise<TotpFactor> {
  const enrolment = await api.mfa.enrol(accessToken)
  if (enrolment.status !== 201) throw new Error(`enrolment failed: ${enrolment.status} ${JSON.stringify(enrolment.body)}`)
  return { id: enrolment.body.data.factor_id, secret: enrolment.body.data.secret }
}

/** Turns TOTP on for the user through the real handlers: enrol, then activate with the current code (other sessions kept). */
export async function enableTotp(user: MfaFuzzUser): Promise<void> {
  const { pair } = await openSession(user)
  const factor = await enrol(pair.access_token)
  const activated = await api.mfa.activate(pair.access_token, factor.id, { code: totpCode(factor.secret), end_other_sessions: false })
  if (activated.status !== 200) throw new Error(`activation failed: ${activated.status} ${JSON.stringify(activated.body)}`)
  if (user.factor) user.formerFactorIds.push(user.factor.id)
  user.factor = factor
  user.recoveryCodes = activated.body.data.recovery_codes
}

/** A fuzz user from a registered one, with no factor yet. */
export const mfaFuzzUser = (u: FuzzUser): MfaFuzzUser => ({
  identityId: u.identityId,
  login: u.login,
  password: u.password,
  factor: undefined,
  recoveryCodes: [],
  formerFactorIds: [],
})

/** A recovery code as a person might type it back: upper case, a space for the hyphen, O for 0, I for 1, padded. */
const asTyped = (code: string): string => ` ${code.toUpperCase().replace('-', ' ').replace(/0/g, 'O').replace(/1/g, 'I')} `

/** A base32 secret no factor has: the codes of a case without a factor. */
const UNRELATED_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP'

/**
 * The two-factor refs of one case, resolved against `factor` (the user's active factor, or the enrolment a case
 * of the activate route made) and the user's recovery codes; and, after the case, `settle`.
 */
export class MfaCase {
  /** The factor whose codes `totpCode` and its neighbours are. */
  factor: TotpFactor | undefined
  #handedOut: Promise<{ code: string; left: number }> | undefined

  constructor(readonly user: MfaFuzzUser) {
    this.factor = user.factor
  }

  readonly resolve = async (name: RefName): Promise<string> => {
    switch (name) {
      case 'totpCode':
        return totpCode(this.factor?.secret ?? UNRELATED_SECRET)
      case 'previousTotpCode':
        return totpCode(this.factor?.secret ?? UNRELATED_SECRET, -1)
      case 'nextTotpCode':
        return totpCode(this.factor?.secret ?? UNRELATED_SECRET, 1)
      case 'recoveryCode':
        return (await this.#recoveryCode()).code
      case 'recoveryCodeAsTyped':
        return asTyped((await this.#recoveryCode()).code)
      case 'mfaToken':
        return this.#challenge()
      case 'exhaustedMfaToken': {
        const token = await this.#challenge()
        const wrong = this.factor && totpCode(this.factor.secret) === '000000' ? '000001' : '000000'
        for (let i = 0; i < 5; i++) await api.mfa.verify({ mfa_token: token, code: wrong })
        return token
      }
      default:
        throw new Error(`ref(${name}) is not a two-factor ref`)
    }
  }

  /** One of the user's unspent recovery codes (the same one for the whole case), renewed when none is left. */
  #recoveryCode(): Promise<{ code: string; left: number }> {
    this.#handedOut ??= (async () => {
      const { mfa, factors } = mfaRows()
      if (this.user.factor && this.user.recoveryCodes.length === 0) {
        this.user.recoveryCodes = (await factors.regenerateRecoveryCodes(this.user.identityId, FUZZ_ORIGIN)).recovery_codes
      }
      // A user without a factor has no codes: a well-formed one all the same.
      const code = this.user.recoveryCodes[0] ?? 'abcde-fghjk'
      return { code, left: await mfa.recoveryCodesLeft(this.user.identityId) }
    })()
    return this.#handedOut
  }

  /** The mfa_token of a real login (POST /auth/login with the user's password), which a user with a factor gets. */
  async #challenge(): Promise<string> {
    const login = await api.login({ login: this.user.login, password: this.user.password })
    const token = login.body?.data?.mfa_token
    if (login.status !== 200 || typeof token !== 'string')
      throw new Error(`no login challenge: ${login.status} ${JSON.stringify(login.body)}`)
    return token
  }

  /**
   * Puts the user back as the next case expects it: its factor on (turned on again if the case removed it) or off
   * (removed if the case activated one), without the recovery code the case spent; `renewed`: the codes the case
   * got from POST /auth/mfa/recovery-codes.
   */
  async settle(renewed: string[] | undefined): Promise<void> {
    const { mfa } = mfaRows()
    const active = await mfa.active(this.user.identityId)
    if (this.user.factor === undefined) {
      if (active) await mfa.remove(this.user.identityId, active.id, FUZZ_ORIGIN)
      return
    }
    if (active?.id !== this.user.factor.id) {
      await enableTotp(this.user)
      return
    }
    if (renewed) {
      this.user.recoveryCodes = renewed
      return
    }
    if (this.#handedOut) {
      const { code, left } = await this.#handedOut
      if ((await mfa.recoveryCodesLeft(this.user.identityId)) < left)
        this.user.recoveryCodes = this.user.recoveryCodes.filter((c) => c !== code)
    }
  }
}

/** The factor id a choice names, for `user` (undefined: no path parameter); `own` is the case's factor. */
export function factorIdFor(
  choice: FactorIdChoice,
  own: string | undefined,
  replaced: string | undefined,
  otherUser: string,
): string | undefined {
  switch (choice.kind) {
    case 'own': {
      const id = own ?? randomUUID()
      return choice.upper ? id.toUpperCase() : id
    }
    case 'replaced':
      return replaced ?? randomUUID()
    case 'other-user':
      return otherUser
    case 'unknown':
    case 'junk':
      return choice.id
    case 'absent':
      return undefined
  }
}
