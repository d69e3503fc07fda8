/**
 * Symbolic values in generated requests: `ref('accessToken')`, `ref('refreshToken')`, `ref('currentPassword')`...
 * are resolved when the case runs (tests/support/fuzz/case-context.ts), against a session opened for that case,
 * so counterexamples stay readable and replayable.
 */

/** The refs every case can resolve (tests/support/fuzz/case-context.ts). */
export type BaseRefName = 'accessToken' | 'refreshToken' | 'rotatedRefreshToken' | 'currentPassword' | 'login' | 'sessionId'

/**
 * The two-factor refs (tests/support/fuzz/mfa.ts), resolved against the case's TOTP factor and its user's recovery
 * codes: the code of the current, previous or next 30-second step, an unspent recovery code (as issued, or as a
 * person might type it back), the mfa_token of a real login challenge (fresh, or out of attempts).
 */
export type MfaRefName =
  | 'totpCode'
  | 'previousTotpCode'
  | 'nextTotpCode'
  | 'recoveryCode'
  | 'recoveryCodeAsTyped'
  | 'mfaToken'
  | 'exhaustedMfaToken'

export type RefName = BaseRefName | MfaRefName

/** A value known only when the case runs (a live token, the user's current password...). */
export class Ref {
  constructor(readonly name: RefName) {}
  toString(): string {
    return `ref(${this.name})`
  }
}
export const ref = (name: RefName): Ref => new Ref(name)

export type Resolver = (name: RefName) => Promise<string>

function collectRefs(value: unknown, found = new Set<RefName>()): Set<RefName> {
  if (value instanceof Ref) found.add(value.name)
  else if (Array.isArray(value)) for (const item of value) collectRefs(item, found)
  else if (typeof value === 'object' && value !== null) for (const item of Object.values(value)) collectRefs(item, found)
  return found
}

/** The values of the refs found anywhere in `value`. */
export async function resolveRefs(value: unknown, resolve: Resolver): Promise<Map<RefName, string>> {
  const values = new Map<RefName, string>()
  for (const name of collectRefs(value)) values.set(name, await resolve(name))
  return values
}
