/**
 * TOTP (RFC 6238) second factors, as authenticator apps compute them: HMAC-SHA-1, 6 digits, a 30-second
 * step, over `otpauth`. Pure functions: the caller stores the secret (sealed, ./secret-box.ts) and the last
 * step it accepted for each factor, and refuses a step not after that one, so each code works at most once.
 *
 * A code is accepted for the current step and the one before it (a code typed just as it rolled over,
 * or a clock a little behind ours), never for the next one: otpauth's `validate({ window })` searches both
 * sides, so we compute the two codes ourselves and compare.
 */
import { timingSafeEqual } from 'node:crypto'
import { HOTP, Secret, TOTP } from 'otpauth'

export const TOTP_ALGORITHM = 'SHA1'
export const TOTP_DIGITS = 6
export const TOTP_PERIOD_SECONDS = 30
/** 160 bits, the HMAC-SHA-1 output size that RFC 4226 §4 recommends for the shared secret. */
export const TOTP_SECRET_BYTES = 20

const CODE = /^[0-9]{6}$/

/** A new shared secret: 20 bytes from the CSPRNG (otpauth's `Secret` uses node:crypto `randomBytes`), in base32. */
export function newTotpSecret(): string {
  return new Secret({ size: TOTP_SECRET_BYTES }).base32
}

export interface OtpauthUriOptions {
  /** The base32 secret from `newTotpSecret()`. */
  secret: string
  /** What the app shows under the issuer: the account's login. */
  account: string
  /** The service's name as the app shows it (the caller passes its configured name, e.g. "Attune Auth"). */
  issuer: string
}

/**
 * The `otpauth://totp/Issuer:account?issuer=…&secret=…&algorithm=SHA1&digits=6&period=30` URI that an
 * authenticator app reads from a QR code (the Key Uri Format of Google Authenticator).
 */
export function otpauthUri({ secret, account, issuer }: OtpauthUriOptions): string {
  if (issuer === '') throw new Error('otpauthUri: the issuer must not be empty')
  if (account === '') throw new Error('otpauthUri: the account must not be empty')
  return new TOTP({
    issuer,
    label: account,
    issuerInLabel: true,
    secret: Secret.fromBase32(secret),
    algorithm: TOTP_ALGORITHM,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
  }).toString()
}

/** The time step (RFC 6238's counter T) at `nowMs`: whole periods since the Unix epoch. */
export function totpStep(nowMs: number): number {
  return TOTP.counter({ period: TOTP_PERIOD_SECONDS, timestamp: nowMs })
}

const codeAt = (secret: Secret, step: number): string =>
  HOTP.generate({ secret, algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, counter: step })

/**
 * The time step at which `code` is the secret's code, trying the current step (at `nowMs`) and the previous
 * one only; undefined when it is neither (or is not exactly 6 ASCII digits, checked before any HMAC).
 * The caller accepts the step at most once per factor (its `last_used_step`).
 *
 * Both candidate codes are always computed and compared, in constant time with node:crypto
 * `timingSafeEqual` on two 6-byte buffers, so the time taken says nothing about which digits matched or
 * which step did. (otpauth 9.5.2's own `HOTP.validate` also compares with `crypto.timingSafeEqual` in its
 * Node build, dist/otpauth.node.mjs, after returning early on a length mismatch; we do not use it because
 * its window is symmetric.)
 *
 * Throws when `secret` is not base32 (a stored secret is ours, so that is a bug, not a wrong code).
 */
export function matchingStep(secret: string, code: string, nowMs: number): number | undefined {
  if (!CODE.test(code)) return undefined
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new RangeError('matchingStep: nowMs must be a time since the epoch')
  const key = Secret.fromBase32(secret)
  const given = Buffer.from(code, 'ascii')
  const current = totpStep(nowMs)
  let matched: number | undefined
  // Newest first: should both steps have the same code (one chance in a million), the later step is the one
  // answered, so recording it as used refuses the code at both.
  for (const step of [current, current - 1]) {
    if (step < 0) continue
    const equal = timingSafeEqual(given, Buffer.from(codeAt(key, step), 'ascii'))
    if (equal && matched === undefined) matched = step
  }
  return matched
}
