/**
 * Password hashing: Argon2id (hash-wasm's WebAssembly, lib/passwords/argon2id.ts) with OWASP's parameters, stored as a
 * PHC string. At ARGON2_PARAMS it runs on one Argon2 instance reused for the life of the process; a stored hash
 * with other parameters gets an instance of its own for that one verification. Verification recomputes the hash
 * and compares in constant time. An unknown login is verified against a dummy hash of the same cost, on the
 * same instance, so response time does not reveal which logins exist.
 */

import { randomBytes, timingSafeEqual } from 'node:crypto'
import { type Argon2id, createArgon2id } from './argon2id.js'
import { normalizePassword } from './policy.js'

export { normalizePassword, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwordLength } from './policy.js'

/**
 * OWASP Password Storage Cheat Sheet: Argon2id, 7 MiB, 5 iterations, 1 lane — one of its rows of equal
 * strength (46 MiB/t=1 … 7 MiB/t=5), and the fastest of them here: hash-wasm's `argon2id()` pays for every
 * fresh MiB of WebAssembly memory on each call, and on the reused instance (lib/passwords/argon2id.ts) the smallest
 * memory still hashes fastest (docs/PERFORMANCE.md). Hashes made with other parameters (the former
 * default was 19 MiB, t=2) still verify: see needsRehash.
 */
export const ARGON2_PARAMS = { memorySize: 7168, iterations: 5, parallelism: 1, hashLength: 32, saltLength: 16 } as const

/** A hash of a random, discarded password, with ARGON2_PARAMS: verifying against it costs what a real verify costs. */
export const DUMMY_HASH = '$argon2id$v=19$m=7168,t=5,p=1$WobmYDQyXx3etkM2bO5dbA$suKr1oloAMcPSHyGPC9JGVs1v0jV1Kdo77ntw5+U048'

/** Bounds on what a stored hash may ask for, so a corrupt row cannot make one verification cost minutes. */
const LIMITS = { memorySize: 262_144, iterations: 16, parallelism: 8 }

export interface Argon2Hash {
  memorySize: number
  iterations: number
  parallelism: number
  salt: Uint8Array
  hash: Uint8Array
}

let reusable: Promise<Argon2id> | undefined

/** Argon2id at ARGON2_PARAMS on one reused instance, created on first use (a failed creation is retried next time). */
function argon2idAtParams(): Promise<Argon2id> {
  reusable ??= createArgon2id(ARGON2_PARAMS).catch((error: unknown) => {
    reusable = undefined
    throw error
  })
  return reusable
}

type Argon2Parameters = Pick<Argon2Hash, 'memorySize' | 'iterations' | 'parallelism' | 'salt'> & { hashLength: number }

/**
 * Raw Argon2id of `password` (UTF-8, as hash-wasm encodes strings): on the reused instance when `p` is
 * ARGON2_PARAMS, else on a throwaway instance (older hashes, until rehash-on-login replaces them).
 */
async function argon2idRaw(password: string, p: Argon2Parameters): Promise<Uint8Array> {
  const { memorySize, iterations, parallelism, salt, hashLength } = p
  const current =
    memorySize === ARGON2_PARAMS.memorySize &&
    iterations === ARGON2_PARAMS.iterations &&
    parallelism === ARGON2_PARAMS.parallelism &&
    hashLength === ARGON2_PARAMS.hashLength
  const argon2 = current ? await argon2idAtParams() : await createArgon2id({ memorySize, iterations, parallelism, hashLength })
  return argon2.hash(Buffer.from(password, 'utf8'), salt)
}

const base64NoPadding = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64').replace(/=+$/, '')

/** PHC string, exactly as hash-wasm's `argon2id({ ..., outputType: 'encoded' })` writes it. */
const encodeArgon2Hash = ({ memorySize, iterations, parallelism, salt, hash }: Argon2Hash): string =>
  `$argon2id$v=19$m=${memorySize},t=${iterations},p=${parallelism}$${base64NoPadding(salt)}$${base64NoPadding(hash)}`

export async function hashPassword(password: string): Promise<string> {
  const params = { ...ARGON2_PARAMS, salt: randomBytes(ARGON2_PARAMS.saltLength) }
  return encodeArgon2Hash({ ...params, hash: await argon2idRaw(normalizePassword(password), params) })
}

/**
 * True when `password` matches `storedHash`. A missing or unreadable hash is verified against
 * DUMMY_HASH (same cost) and answers false.
 */
export async function verifyPassword(password: string, storedHash: string | null | undefined): Promise<boolean> {
  const parsed = storedHash ? parseArgon2Hash(storedHash) : undefined
  const target = parsed ?? (parseArgon2Hash(DUMMY_HASH) as Argon2Hash)
  const candidate = normalizePassword(password)
  // Argon2id refuses an empty password; it can never match, but still costs one full verification.
  const computed = await argon2idRaw(candidate.length > 0 ? candidate : '\u0000', { ...target, hashLength: target.hash.length })
  const equal = timingSafeEqual(computed, target.hash)
  return parsed !== undefined && candidate.length > 0 && equal
}

/**
 * True when a stored hash was made with other Argon2 parameters (memory, iterations, lanes) than
 * ARGON2_PARAMS, or cannot be read: after a successful login its password should be hashed again.
 */
export function needsRehash(phc: string): boolean {
  const parsed = parseArgon2Hash(phc)
  if (!parsed) return true
  return (
    parsed.memorySize !== ARGON2_PARAMS.memorySize ||
    parsed.iterations !== ARGON2_PARAMS.iterations ||
    parsed.parallelism !== ARGON2_PARAMS.parallelism
  )
}

const PHC = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{22,})$/

/** Parses a PHC-format Argon2id string; undefined when it is not one this service can verify. */
export function parseArgon2Hash(phc: string): Argon2Hash | undefined {
  const m = PHC.exec(phc)
  if (!m) return undefined
  const memorySize = Number(m[1])
  const iterations = Number(m[2])
  const parallelism = Number(m[3])
  if (parallelism < 1 || parallelism > LIMITS.parallelism) return undefined
  if (iterations < 1 || iterations > LIMITS.iterations) return undefined
  if (memorySize < 8 * parallelism || memorySize > LIMITS.memorySize) return undefined
  const salt = Buffer.from(m[4] as string, 'base64')
  const hash = Buffer.from(m[5] as string, 'base64')
  if (salt.length < 8 || hash.length < 16) return undefined
  return { memorySize, iterations, parallelism, salt, hash }
}

/** What the auth rules need from this module, passed in by the functions that hash (so the others carry no Argon2). */
export interface PasswordHashing {
  hashPassword(password: string): Promise<string>
  verifyPassword(password: string, storedHash: string | null | undefined): Promise<boolean>
  needsRehash(phc: string): boolean
}

export const passwordHashing: PasswordHashing = { hashPassword, verifyPassword, needsRehash }
