/**
 * Two-factor rules (README "Two-factor authentication"): enrolling a TOTP factor, activating it with a first
 * code (which answers the recovery codes, once), and checking a second factor, a TOTP code or a recovery code,
 * for an identity. The rows and their races are lib/db/mfa.ts's; the handlers are thin over this.
 */
import { randomUUID } from 'node:crypto'
import { ApiError } from '@attune-auth/client/errors'
import type { Origin } from '../audit/events.js'
import type { MfaRepository, StoredRecoveryCode } from '../db/mfa.js'
import { ENROLMENT_TTL_SECONDS } from '../db/mfa.js'
import type { PasswordHashing } from '../passwords/hashing.js'
import { DUMMY_HASH } from '../passwords/hashing.js'
import { newRecoveryCodes, normalizeRecoveryCode } from './recovery-codes.js'
import type { SecretBoxKeyring } from './secret-box.js'
import { openSecret, sealSecret } from './secret-box.js'
import { matchingStep, newTotpSecret, otpauthUri } from './totp.js'

export interface MfaDependencies {
  mfa: MfaRepository
  /** The keys that seal TOTP secrets at rest (MFA_ENCRYPTION_KEYS). */
  keyring: SecretBoxKeyring
  /** Our Argon2id, for the recovery codes. */
  passwords: PasswordHashing
  /** The issuer an authenticator app shows beside the account. */
  issuer: string
  now: () => number
}

export interface Enrolment {
  factor_id: string
  secret: string
  otpauth_uri: string
  expires_in: number
}

/** A second factor as the user presents it: a TOTP code, or one of their recovery codes. */
export type SecondFactor = { code: string } | { recoveryCode: string }

/** The RFC 8176 `amr` value of what passed: `otp` a TOTP code, `rc` a recovery code (a look-up secret, NIST SP 800-63B). */
export type SecondFactorMethod = 'otp' | 'rc'

/** `GET /auth/mfa`. */
export interface MfaStatus {
  enabled: boolean
  factors: { id: string; kind: 'totp'; status: 'pending' | 'active'; created: string; activated: string | null }[]
  recovery_codes_left: number
}

export function createMfaRules({ mfa, keyring, passwords, issuer, now }: MfaDependencies) {
  const secretOf = (factorId: string, sealed: string) => openSecret(keyring, sealed, factorId)

  async function hashCodes(codes: string[]): Promise<StoredRecoveryCode[]> {
    return Promise.all(codes.map(async (code, id) => ({ id, hint: code.slice(0, 2), hash: await passwords.hashPassword(code) })))
  }

  /**
   * Checks a second factor of the identity and spends it (a code's time step, a recovery code): the method
   * that passed, or undefined. A code accepted once, by any request, is never accepted again.
   */
  async function verify(identityId: number, factor: SecondFactor, origin: Origin): Promise<SecondFactorMethod | undefined> {
    if ('code' in factor) {
      const active = await mfa.active(identityId)
      if (!active) return undefined
      const step = matchingStep(secretOf(active.id, active.sealed), factor.code, now())
      if (step === undefined || step <= active.lastUsedStep) return undefined
      return (await mfa.spendStep(active.id, step)) ? 'otp' : undefined
    }
    const code = normalizeRecoveryCode(factor.recoveryCode)
    if (code === undefined) return undefined
    const candidates = await mfa.recoveryCandidates(identityId, code.slice(0, 2))
    for (const candidate of candidates) {
      if (await passwords.verifyPassword(code, candidate.hash)) {
        return (await mfa.spendRecoveryCode(identityId, candidate.id, origin)) ? 'rc' : undefined
      }
    }
    // No code begins so: one verification all the same, so the time does not tell the two apart.
    if (candidates.length === 0) await passwords.verifyPassword(code, DUMMY_HASH)
    return undefined
  }

  return {
    /** Starts a TOTP enrolment: the secret, shown once, and the URI an authenticator app reads (no QR image here). */
    async enrolTotp(identityId: number, account: string): Promise<Enrolment> {
      if (await mfa.active(identityId)) throw new ApiError('mfa_already_enabled')
      const factorId = randomUUID()
      const secret = newTotpSecret()
      await mfa.createPending(identityId, factorId, sealSecret(keyring, secret, factorId))
      return { factor_id: factorId, secret, otpauth_uri: otpauthUri({ secret, account, issuer }), expires_in: ENROLMENT_TTL_SECONDS }
    },

    /** Activates the enrolment with its first code; answers the ten recovery codes, shown this once. */
    async activateTotp(identityId: number, factorId: string, code: string, origin: Origin): Promise<{ recovery_codes: string[] }> {
      const pending = await mfa.pending(identityId, factorId, ENROLMENT_TTL_SECONDS)
      if (!pending) throw new ApiError('mfa_factor_not_found')
      const step = matchingStep(secretOf(pending.id, pending.sealed), code, now())
      if (step === undefined) throw new ApiError('mfa_code_invalid')
      const codes = newRecoveryCodes()
      if (!(await mfa.activate(identityId, factorId, step, await hashCodes(codes), origin))) {
        // Another request activated a factor (or this one) first.
        throw new ApiError((await mfa.active(identityId)) ? 'mfa_already_enabled' : 'mfa_factor_not_found')
      }
      return { recovery_codes: codes }
    },

    /** Whether the identity has an active second factor (a login then answers `mfa_required`). */
    async required(identityId: number): Promise<boolean> {
      return (await mfa.active(identityId)) !== undefined
    },

    verify,

    recoveryCodesLeft: (identityId: number) => mfa.recoveryCodesLeft(identityId),

    /** The identity's factors (never a secret) and how many recovery codes it has left. */
    async status(identityId: number): Promise<MfaStatus> {
      const [factors, left] = await Promise.all([mfa.list(identityId, ENROLMENT_TTL_SECONDS), mfa.recoveryCodesLeft(identityId)])
      return {
        enabled: factors.some((f) => f.status === 'active'),
        factors: factors.map((f) => ({
          id: f.id,
          kind: f.kind,
          status: f.status,
          created: f.created.toISOString(),
          activated: f.activated?.toISOString() ?? null,
        })),
        recovery_codes_left: left,
      }
    },

    /** The id of the identity's active factor, if any. */
    activeFactorId: async (identityId: number): Promise<string | undefined> => (await mfa.active(identityId))?.id,

    /** New recovery codes, shown this once, replacing the old ones (the caller has proved a fresh code). */
    async regenerateRecoveryCodes(identityId: number, origin: Origin): Promise<{ recovery_codes: string[] }> {
      const codes = newRecoveryCodes()
      if (!(await mfa.replaceRecoveryCodes(identityId, await hashCodes(codes), origin))) throw new ApiError('mfa_factor_not_found')
      return { recovery_codes: codes }
    },

    /** Removes the active factor `factorId` and the recovery codes (the caller has proved a fresh code of it). */
    async remove(identityId: number, factorId: string, origin: Origin): Promise<void> {
      if (!(await mfa.remove(identityId, factorId, origin))) throw new ApiError('mfa_factor_not_found')
    },
  }
}

export type MfaRules = ReturnType<typeof createMfaRules>
