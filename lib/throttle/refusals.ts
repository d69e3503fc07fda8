/** The answers of the abuse defences: a 429 with Retry-After, and a 400 WEAK_PASSWORD that says why. */
import { ApiError } from '@attune-auth/client/errors'
import type { PasswordWeakness } from '../passwords/strength.js'

/** `429 TOO_MANY_REQUESTS` with `Retry-After` (RFC 9110 §10.2.3): whole seconds until an attempt is allowed again. */
export const tooManyAttempts = (retryAfterSeconds: number): ApiError =>
  new ApiError('too_many_attempts', { headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) } })

export const weakPassword = (weakness: PasswordWeakness): ApiError => new ApiError(weakness)
