/**
 * Configuration: the environment is parsed and validated once per cold start.
 * This is the only module that reads `process.env`.
 */
import type { KeyObject } from 'node:crypto'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import * as v from 'valibot'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Stages where a missing JWT_SECRET falls back to an insecure development value. Every other stage is production. */
export const DEVELOPMENT_STAGES: readonly string[] = ['local', 'test']

export const INSECURE_DEVELOPMENT_SECRET = 'attune-insecure-development-secret-do-not-use-in-production'
export const MIN_SECRET_BYTES = 32

export const SIGNING_ALGORITHMS = ['HS256', 'ES256', 'RS256'] as const
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number]

/** Asymmetric signing (ES256/RS256): the private key signs; public keys are published at /.well-known/jwks.json. */
export interface AsymmetricKeys {
  algorithm: 'ES256' | 'RS256'
  privateKey: KeyObject
  /** The public key of the pair being rotated out: still verifies (and is published) until previousSecretUntil. */
  previousPublicKey: KeyObject | undefined
}

export interface Config {
  stage: string
  production: boolean
  jwt: {
    secret: Uint8Array
    /** True when JWT_SECRET was not set and the development default is in use. */
    insecureSecret: boolean
    /** The secret being rotated out: verifies (never signs) until previousSecretUntil. */
    previousSecret: Uint8Array | undefined
    /** Milliseconds since the epoch. */
    previousSecretUntil: number | undefined
    accessExpiration: number
    refreshExpiration: number
    /** Set when JWT_ALGORITHM is ES256 or RS256; HS256 (the default) uses `secret`. */
    asymmetric: AsymmetricKeys | undefined
    /** Seconds during which a just-rotated refresh token is answered with the same successor instead of counting as reuse. */
    refreshReuseGrace: number
    issuer: string
    audience: string
  }
  database: {
    url: string
    poolMax: number
    connectTimeout: number
    statementTimeout: number
    prepare: boolean
  }
  /** HTTP API payload 2.0 events are answered `{isAuthorized, context}` (true) or with an IAM policy (false). */
  authorizerSimpleResponses: boolean
  logLevel: LogLevel
  /** Non-fatal findings to log once the logger exists (e.g. "JWT_SECRET not set"). */
  warnings: string[]
}

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

const positiveInt = (fallback: number) =>
  v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number), v.minValue(1, 'must be at least 1')),
    String(fallback),
  )

const wholeNumber = (fallback: number) =>
  v.optional(v.pipe(v.string(), v.trim(), v.regex(/^\d+$/, 'must be a whole number'), v.transform(Number)), String(fallback))

const timestamp = v.optional(
  v.pipe(
    v.string(),
    v.trim(),
    v.transform((s) => Date.parse(s)),
    v.check((n) => Number.isFinite(n), 'must be an ISO 8601 date-time, e.g. 2026-12-31T00:00:00Z'),
  ),
)

const nonEmpty = (fallback: string) => v.optional(v.pipe(v.string(), v.trim(), v.nonEmpty('must not be empty')), fallback)

const EnvSchema = v.object({
  STAGE: nonEmpty('local'),
  JWT_SECRET: v.optional(v.string()),
  JWT_ACCESS_EXPIRATION: positiveInt(3600),
  JWT_REFRESH_EXPIRATION: positiveInt(604800),
  JWT_REFRESH_REUSE_GRACE: wholeNumber(10),
  JWT_PREVIOUS_SECRET: v.optional(v.string()),
  JWT_ALGORITHM: v.optional(v.picklist(SIGNING_ALGORITHMS, `must be one of ${SIGNING_ALGORITHMS.join(', ')}`), 'HS256'),
  JWT_PRIVATE_KEY: v.optional(v.string()),
  JWT_PREVIOUS_PUBLIC_KEY: v.optional(v.string()),
  JWT_PREVIOUS_SECRET_UNTIL: timestamp,
  JWT_ISSUER: nonEmpty('attune-auth'),
  JWT_AUDIENCE: nonEmpty('attune-api'),
  DATABASE_URL: v.pipe(v.string('is required'), v.trim(), v.nonEmpty('is required')),
  DATABASE_POOL_MAX: positiveInt(1),
  DATABASE_CONNECT_TIMEOUT: positiveInt(3),
  DATABASE_STATEMENT_TIMEOUT: positiveInt(3000),
  DATABASE_PREPARE: v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'true'),
  AUTHORIZER_SIMPLE_RESPONSES: v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'true'),
  LOG_LEVEL: v.optional(v.pipe(v.string(), v.toLowerCase(), v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`)), 'info'),
})

/** Parses an environment into a Config, or throws a ConfigError naming every problem (never a secret's value). */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  // An empty variable counts as unset (templates often fill optional values with '').
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''))
  const parsed = v.safeParse(EnvSchema, present)
  if (!parsed.success) {
    throw new ConfigError(parsed.issues.map((issue) => `${v.getDotPath(issue) ?? 'environment'} ${issue.message}`))
  }
  const e = parsed.output
  const production = !DEVELOPMENT_STAGES.includes(e.STAGE)
  const warnings: string[] = []
  const problems: string[] = []

  const secretText = e.JWT_SECRET === undefined || e.JWT_SECRET === '' ? undefined : e.JWT_SECRET
  if (e.JWT_ALGORITHM !== 'HS256') {
    // Tokens are signed with JWT_PRIVATE_KEY; JWT_SECRET is not used.
  } else if (secretText === undefined) {
    if (production) problems.push(`JWT_SECRET is required in stage "${e.STAGE}"`)
    else warnings.push('JWT_SECRET not set: using an insecure development secret')
  } else if (Buffer.byteLength(secretText, 'utf8') < MIN_SECRET_BYTES) {
    const message = `JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes (256 bits)`
    if (production) problems.push(message)
    else warnings.push(`${message}; accepted only because stage "${e.STAGE}" is for development`)
  }
  const previousText = e.JWT_PREVIOUS_SECRET === undefined || e.JWT_PREVIOUS_SECRET === '' ? undefined : e.JWT_PREVIOUS_SECRET
  if (previousText !== undefined && e.JWT_PREVIOUS_SECRET_UNTIL === undefined) {
    problems.push('JWT_PREVIOUS_SECRET_UNTIL is required with JWT_PREVIOUS_SECRET (when the rotation overlap ends)')
  }
  if (previousText !== undefined && production && Buffer.byteLength(previousText, 'utf8') < MIN_SECRET_BYTES) {
    problems.push(`JWT_PREVIOUS_SECRET must be at least ${MIN_SECRET_BYTES} bytes (256 bits)`)
  }
  const asymmetric = readAsymmetricKeys(e.JWT_ALGORITHM, e.JWT_PRIVATE_KEY, e.JWT_PREVIOUS_PUBLIC_KEY, problems)
  if (e.JWT_PREVIOUS_PUBLIC_KEY && e.JWT_PREVIOUS_SECRET_UNTIL === undefined) {
    problems.push('JWT_PREVIOUS_SECRET_UNTIL is required with JWT_PREVIOUS_PUBLIC_KEY (when the rotation overlap ends)')
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return {
    stage: e.STAGE,
    production,
    jwt: {
      secret: new TextEncoder().encode(secretText ?? INSECURE_DEVELOPMENT_SECRET),
      insecureSecret: secretText === undefined,
      previousSecret: previousText === undefined ? undefined : new TextEncoder().encode(previousText),
      previousSecretUntil: previousText === undefined && !asymmetric?.previousPublicKey ? undefined : e.JWT_PREVIOUS_SECRET_UNTIL,
      asymmetric,
      accessExpiration: e.JWT_ACCESS_EXPIRATION,
      refreshExpiration: e.JWT_REFRESH_EXPIRATION,
      refreshReuseGrace: e.JWT_REFRESH_REUSE_GRACE,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    },
    database: {
      url: e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      connectTimeout: e.DATABASE_CONNECT_TIMEOUT,
      statementTimeout: e.DATABASE_STATEMENT_TIMEOUT,
      prepare: e.DATABASE_PREPARE === 'true',
    },
    authorizerSimpleResponses: e.AUTHORIZER_SIMPLE_RESPONSES === 'true',
    logLevel: e.LOG_LEVEL,
    warnings,
  }
}

/** PEM from the environment; `\n` escapes are accepted, as single-line secrets often carry them. */
const pem = (text: string): string => text.replace(/\\n/g, '\n').trim()

function readAsymmetricKeys(
  algorithm: SigningAlgorithm,
  privateKeyText: string | undefined,
  previousText: string | undefined,
  problems: string[],
): AsymmetricKeys | undefined {
  if (algorithm === 'HS256') {
    if (privateKeyText) problems.push('JWT_PRIVATE_KEY is set but JWT_ALGORITHM is HS256 (set ES256 or RS256)')
    return undefined
  }
  if (!privateKeyText) {
    problems.push(`JWT_PRIVATE_KEY (a PKCS#8 PEM) is required with JWT_ALGORITHM=${algorithm}`)
    return undefined
  }
  const expected = algorithm === 'ES256' ? 'an EC P-256 key' : 'an RSA key of at least 2048 bits'
  const fits = (key: KeyObject): boolean =>
    algorithm === 'ES256'
      ? key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1'
      : key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(pem(privateKeyText))
  } catch {
    problems.push('JWT_PRIVATE_KEY is not a readable PEM private key')
    return undefined
  }
  if (!fits(privateKey)) problems.push(`JWT_PRIVATE_KEY must be ${expected} for ${algorithm}`)
  let previousPublicKey: KeyObject | undefined
  if (previousText) {
    try {
      previousPublicKey = createPublicKey(pem(previousText))
      if (!fits(previousPublicKey)) problems.push(`JWT_PREVIOUS_PUBLIC_KEY must be ${expected} for ${algorithm}`)
    } catch {
      problems.push('JWT_PREVIOUS_PUBLIC_KEY is not a readable PEM public key')
    }
  }
  return { algorithm, privateKey, previousPublicKey }
}

let current: Config | undefined

/** The process's configuration, parsed from `process.env` on first use (cold start) and kept. */
export function getConfig(): Config {
  current ??= loadConfig(process.env)
  return current
}
