/**
 * Configuration: the environment is parsed and validated once per cold start.
 * This is the only module that reads `process.env`.
 */
import type { KeyObject } from 'node:crypto'
import { createPrivateKey, createPublicKey } from 'node:crypto'
import * as v from 'valibot'
import type { AwsCredentials } from './db/iam-auth.js'
import { API_KEY_ROTATION_OVERLAP_HOURS, apiKeyEnvironmentOf } from './keys/api-key.js'
import type { SecretBoxKeyring } from './mfa/secret-box.js'
import { parseMfaKeys } from './mfa/secret-box.js'
import type { OAuthConfig } from './oauth/settings.js'
import { readOAuthConfig } from './oauth/settings.js'
import type { SecretScope } from './secrets.js'
import { SecretsUnavailableError, withSecrets } from './secrets.js'

export type { OAuthConfig }

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * The one stage where missing secrets fall back to public development values (`npm start` sets it). Every
 * other stage, and an unset STAGE, is production: its secrets must be set, long and not guessable.
 */
export const DEVELOPMENT_STAGE = 'local'

export const INSECURE_DEVELOPMENT_SECRET = 'attune-insecure-development-secret-do-not-use-in-production'
export const INSECURE_DEVELOPMENT_PSEUDONYM_KEY = 'attune-insecure-development-pseudonym-key-do-not-use'
/** The development key that seals TOTP secrets on stage `local` only (32 public bytes: sealed secrets there protect nothing). */
export const INSECURE_DEVELOPMENT_MFA_KEYS = 'dev:YXR0dW5lLWluc2VjdXJlLWRldi1tZmEta2V5LTMyYnk=' // base64 of 'attune-insecure-dev-mfa-key-32by'
export const MIN_SECRET_BYTES = 32
/** A secret with fewer distinct bytes than this is refused outside development (e.g. `'a' * 32`, a short word repeated). */
export const MIN_SECRET_DISTINCT_BYTES = 16

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
  /** STAGE, or `(unset)`: an unset stage is production. */
  stage: string
  production: boolean
  jwt: {
    secret: Uint8Array
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
  sessions: SessionPolicy
  audit: AuditPolicy
  email: EmailConfig
  /** How many attempts the credential endpoints let through, counted in PostgreSQL (lib/db/throttle.ts). */
  throttle: ThrottleConfig
  /** Two-factor authentication (README "Two-factor authentication"). */
  mfa: MfaConfig
  /** Service accounts' API keys (README "Service accounts"). */
  apiKeys: {
    /** `live` keys (`atk_live_`) on production stages (`prod`, `production`), `test` keys elsewhere: neither works on the other. */
    environment: 'live' | 'test'
    /** API_KEY_ROTATION_OVERLAP_HOURS: how long a rotated key keeps working beside its successor. */
    rotationOverlapHours: number
  }
  /** HMAC key for the keyed hashes of logins in logs, and of the logins and addresses the throttle counters count. */
  pseudonymKey: Uint8Array
  database: {
    url: string
    /** DATABASE_AUTH=iam: a 15-minute token signed with the function's role at every new connection, no password (lib/db/iam-auth.ts). */
    iam: AwsCredentials | undefined
    /** MIGRATION_DATABASE_URL: the migrations' own login (the database owner), DATABASE_URL when unset. */
    migrationUrl: string
    poolMax: number
    connectTimeout: number
    statementTimeout: number
    prepare: boolean
  }
  /** A login to hold the `admin` role after every migration (README "Roles and permissions"); the migration reads it. */
  bootstrapAdminLogin: string | undefined
  /** HTTP API payload 2.0 events are answered `{isAuthorized, context}` (true) or with an IAM policy (false). */
  authorizerSimpleResponses: boolean
  logLevel: LogLevel
  /** Non-fatal findings to log once the logger exists (e.g. "JWT_SECRET not set"). */
  warnings: string[]
}

/** How long sessions live and how many an identity keeps; enforced in SQL by lib/db/sessions.ts. */
export interface SessionPolicy {
  /** Seconds a session lives without a refresh (the refresh token's lifetime). */
  idleLifetime: number
  /** Seconds a session lives at most from its creation, however often it is refreshed. */
  maxAge: number
  /** Active sessions an identity keeps at most: opening one more ends the oldest. */
  maxPerIdentity: number
  /** Days an ended or expired session is kept (for GET /auth/sessions history and investigations) before deletion. */
  retentionDays: number
}

/** How long the audit log keeps events, and how far back a user sees their own (README "Audit log"). */
export interface AuditPolicy {
  /** Days an event is kept at least: the maintenance function drops each month's partition once all its events are older. */
  retentionDays: number
  /** Days of their own events a user sees in GET /auth/security-events. */
  userVisibleDays: number
}

/** Mail: who sends it, the links it carries, how long its tokens live, and how it reaches SES (README "Email and password reset"). */
export interface EmailConfig {
  /** The From of every mail (an address, or `Name <address>`), of an identity verified in SES. */
  from: string
  /** Named in every mail's subject and body. */
  productName: string
  /** The link to the client's password-reset page, with `{token}` where the token goes (never built from a request's Host). */
  resetUrl: string
  /** The link to the client's email-verification page, with `{token}`. */
  verifyUrl: string
  /** Seconds a password-reset token works. */
  resetTtl: number
  /** Seconds an email-verification token works. */
  verifyTtl: number
  /** SES v2's endpoint, set only to use a stand-in (npm start's local SES); unset: the region's SES. */
  sesEndpoint: string | undefined
  /** An SES configuration set to send with (event publishing, dedicated IPs), if any. */
  sesConfigurationSet: string | undefined
  /** The mailer function, invoked asynchronously after a commit that queued mail; unset: the schedule alone sends. */
  mailerFunction: string | undefined
  /** Lambda's endpoint for that invocation, set only to reach a stand-in (serverless-offline's). */
  lambdaEndpoint: string | undefined
}

/** Per account: `free` failures, then a wait doubling from 1 s up to `maxDelaySeconds`; it starts over after `quietSeconds`. */
export interface BackoffPolicy {
  kind: 'backoff'
  free: number
  maxDelaySeconds: number
  quietSeconds: number
}

/** Per source address: at most `limit` counted attempts per `windowSeconds`; reaching it blocks for `blockSeconds`. */
export interface WindowPolicy {
  kind: 'window'
  limit: number
  windowSeconds: number
  blockSeconds: number
}

export type ThrottlePolicy = BackoffPolicy | WindowPolicy

export interface ThrottleConfig {
  /** Password checks per account (login) and per identity (change-password). */
  account: BackoffPolicy
  /** Failed credential attempts (login, refresh) per source address (IPv6 by /64). */
  address: WindowPolicy
  /** Registrations per source address. */
  registration: WindowPolicy
  /** Email requests (forgot, reset, verify, resend, email change) per source address. */
  emailRequests: WindowPolicy
  /** Failed second-factor codes per identity (MFA_MAX_FAILURES, then MFA_BLOCK_SECONDS of 429), apart from passwords. */
  mfa: WindowPolicy
  /** Mails of one kind (a reset, a verification) per account: at most one a minute and `hourly.limit` an hour. */
  accountMail: { minute: WindowPolicy; hourly: WindowPolicy }
  /** Hours a counter may stay untouched before the maintenance function deletes it. */
  retentionHours: number
}

export interface MfaConfig {
  /** MFA_ENCRYPTION_KEYS: the keys that seal TOTP secrets at rest, the first one current. */
  keyring: SecretBoxKeyring
  /** The issuer an authenticator app shows beside the account: PRODUCT_NAME. */
  issuer: string
  /** STEP_UP_MAX_AGE: seconds a sign-in counts as recent (enrolling a factor without the password again). */
  stepUpMaxAge: number
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

/** What every function reads, the authorizer included: tokens, sessions, the database, logging. */
const CoreEnvSchema = v.object({
  STAGE: v.optional(v.pipe(v.string(), v.trim(), v.nonEmpty('must not be empty'))),
  JWT_SECRET: v.optional(v.string()),
  JWT_ACCESS_EXPIRATION: positiveInt(3600),
  JWT_REFRESH_EXPIRATION: positiveInt(604800),
  JWT_REFRESH_REUSE_GRACE: wholeNumber(5),
  JWT_PREVIOUS_SECRET: v.optional(v.string()),
  JWT_ALGORITHM: v.optional(v.picklist(SIGNING_ALGORITHMS, `must be one of ${SIGNING_ALGORITHMS.join(', ')}`), 'HS256'),
  JWT_PRIVATE_KEY: v.optional(v.string()),
  JWT_PREVIOUS_PUBLIC_KEY: v.optional(v.string()),
  JWT_PUBLIC_KEY: v.optional(v.string()),
  JWT_PREVIOUS_SECRET_UNTIL: timestamp,
  JWT_ISSUER: nonEmpty('attune-auth'),
  JWT_AUDIENCE: nonEmpty('attune-api'),
  SESSION_MAX_AGE: positiveInt(30 * 24 * 3600),
  SESSION_RETENTION_DAYS: positiveInt(30),
  MAX_SESSIONS_PER_IDENTITY: positiveInt(100),
  DATABASE_URL: v.pipe(v.string('is required'), v.trim(), v.nonEmpty('is required')),
  DATABASE_POOL_MAX: positiveInt(1),
  DATABASE_CONNECT_TIMEOUT: positiveInt(3),
  DATABASE_STATEMENT_TIMEOUT: positiveInt(3000),
  DATABASE_PREPARE: v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'true'),
  DATABASE_AUTH: v.optional(v.picklist(['password', 'iam'], 'must be password or iam'), 'password'),
  MIGRATION_DATABASE_URL: v.optional(v.pipe(v.string(), v.trim())),
  // The function's own credentials (Lambda sets them from its role): IAM database authentication signs with them.
  AWS_REGION: v.optional(v.string()),
  AWS_ACCESS_KEY_ID: v.optional(v.string()),
  AWS_SECRET_ACCESS_KEY: v.optional(v.string()),
  AWS_SESSION_TOKEN: v.optional(v.string()),
  AUTHORIZER_SIMPLE_RESPONSES: v.optional(v.picklist(['true', 'false'], 'must be true or false'), 'true'),
  LOG_LEVEL: v.optional(v.pipe(v.string(), v.toLowerCase(), v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`)), 'info'),
})

/**
 * Everything: the core and what only the other functions read (mail, throttles, audit, MFA keys, pseudonyms). A
 * function, so that a bundle reading only the core (the authorizer's) carries none of it.
 */
function envSchema() {
  return v.object({
    ...CoreEnvSchema.entries,
    LOGIN_FREE_ATTEMPTS: positiveInt(5),
    LOGIN_MAX_DELAY_SECONDS: positiveInt(900),
    LOGIN_RESET_SECONDS: positiveInt(1800),
    ADDRESS_MAX_FAILURES: positiveInt(20),
    ADDRESS_WINDOW_SECONDS: positiveInt(600),
    ADDRESS_BLOCK_SECONDS: positiveInt(600),
    REGISTRATIONS_PER_ADDRESS: positiveInt(10),
    REGISTRATION_WINDOW_SECONDS: positiveInt(3600),
    THROTTLE_RETENTION_HOURS: positiveInt(24),
    EMAIL_FROM: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^[^\r\n]+$/, 'must be one line'))),
    PRODUCT_NAME: v.optional(
      v.pipe(v.string(), v.trim(), v.regex(/^[^\p{Cc}]{1,64}$/u, 'must be 1-64 characters on one line')),
      'Attune Auth',
    ),
    PASSWORD_RESET_URL: v.optional(v.string()),
    EMAIL_VERIFY_URL: v.optional(v.string()),
    PASSWORD_RESET_TTL: positiveInt(1800),
    EMAIL_VERIFY_TTL: positiveInt(86400),
    SES_ENDPOINT: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
    SES_CONFIGURATION_SET: v.optional(v.pipe(v.string(), v.trim())),
    MAILER_FUNCTION: v.optional(v.pipe(v.string(), v.trim())),
    LAMBDA_ENDPOINT: v.optional(v.pipe(v.string(), v.trim(), v.url('must be a URL'))),
    EMAIL_REQUESTS_PER_ADDRESS: positiveInt(20),
    EMAIL_REQUEST_WINDOW_SECONDS: positiveInt(3600),
    ACCOUNT_MAILS_PER_HOUR: positiveInt(5),
    BOOTSTRAP_ADMIN_LOGIN: v.optional(v.pipe(v.string(), v.trim())),
    AUDIT_RETENTION_DAYS: positiveInt(400),
    AUDIT_USER_VISIBLE_DAYS: positiveInt(90),
    PSEUDONYM_KEY: v.optional(v.string()),
    MFA_ENCRYPTION_KEYS: v.optional(v.string()),
    STEP_UP_MAX_AGE: positiveInt(300),
    API_KEY_ROTATION_OVERLAP_HOURS: positiveInt(API_KEY_ROTATION_OVERLAP_HOURS),
    MFA_MAX_FAILURES: positiveInt(10),
    MFA_BLOCK_SECONDS: positiveInt(900),
  })
}

type CoreEnv = v.InferOutput<typeof CoreEnvSchema>

/** The variables of the session policy, as every function reads them. */
const SessionEnvSchema = /* @__PURE__ */ v.pick(CoreEnvSchema, [
  'JWT_REFRESH_EXPIRATION',
  'SESSION_MAX_AGE',
  'MAX_SESSIONS_PER_IDENTITY',
  'SESSION_RETENTION_DAYS',
])

const sessionPolicyOf = (e: v.InferOutput<typeof SessionEnvSchema>): SessionPolicy => ({
  idleLifetime: e.JWT_REFRESH_EXPIRATION,
  maxAge: e.SESSION_MAX_AGE,
  maxPerIdentity: e.MAX_SESSIONS_PER_IDENTITY,
  retentionDays: e.SESSION_RETENTION_DAYS,
})

/** The session policy alone: for `npm run admin`, which ends sessions (so must know which are active) but reads no secret. */
export function loadSessionPolicy(env: Readonly<Record<string, string | undefined>>): SessionPolicy {
  return sessionPolicyOf(parseEnv(SessionEnvSchema, env))
}

/** What the authorizer needs of the configuration, and reads alone (lib/authorizer, functions/authorizer.ts). */
export type AuthorizerConfig = Pick<
  Config,
  'stage' | 'production' | 'jwt' | 'sessions' | 'database' | 'authorizerSimpleResponses' | 'logLevel' | 'warnings'
> & { apiKeys: Pick<Config['apiKeys'], 'environment'> }

/** `env` parsed with `schema`, an empty variable counting as unset (templates often fill optional values with ''). */
function parseEnv<S extends typeof CoreEnvSchema | ReturnType<typeof envSchema> | typeof SessionEnvSchema>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
) {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''))
  const parsed = v.safeParse(schema, present)
  if (!parsed.success) {
    throw new ConfigError(parsed.issues.map((issue) => `${v.getDotPath(issue) ?? 'environment'} ${issue.message}`))
  }
  return parsed.output as v.InferOutput<S>
}

/** The core of every configuration: the stage, the tokens' keys and lifetimes, sessions, the database, logging. */
function readCore(e: CoreEnv, problems: string[], warnings: string[]): Omit<AuthorizerConfig, 'warnings'> {
  const stage = e.STAGE ?? '(unset)'
  const production = stage !== DEVELOPMENT_STAGE
  const secret = (name: string, text: string | undefined, developmentValue: string): Uint8Array | undefined =>
    readSecret({ name, text, developmentValue, stage, production, problems, warnings })
  // With ES256/RS256, tokens are signed with JWT_PRIVATE_KEY and JWT_SECRET is not read.
  const jwtSecret = e.JWT_ALGORITHM === 'HS256' ? secret('JWT_SECRET', e.JWT_SECRET, INSECURE_DEVELOPMENT_SECRET) : undefined
  const previousSecret = e.JWT_PREVIOUS_SECRET ? secret('JWT_PREVIOUS_SECRET', e.JWT_PREVIOUS_SECRET, '') : undefined
  if (e.JWT_PREVIOUS_SECRET && e.JWT_PREVIOUS_SECRET_UNTIL === undefined) {
    problems.push('JWT_PREVIOUS_SECRET_UNTIL is required with JWT_PREVIOUS_SECRET (when the rotation overlap ends)')
  }
  const asymmetric = readAsymmetricKeys(e.JWT_ALGORITHM, e.JWT_PRIVATE_KEY, e.JWT_PREVIOUS_PUBLIC_KEY, problems)
  if (asymmetric && e.JWT_PUBLIC_KEY && !publicHalfOf(asymmetric.privateKey, e.JWT_PUBLIC_KEY)) {
    problems.push('JWT_PUBLIC_KEY is not the public half of JWT_PRIVATE_KEY (the JWK Set would publish a key that verifies nothing)')
  }
  if (e.JWT_PREVIOUS_PUBLIC_KEY && e.JWT_PREVIOUS_SECRET_UNTIL === undefined) {
    problems.push('JWT_PREVIOUS_SECRET_UNTIL is required with JWT_PREVIOUS_PUBLIC_KEY (when the rotation overlap ends)')
  }
  if (e.SESSION_MAX_AGE < e.JWT_REFRESH_EXPIRATION) {
    warnings.push('SESSION_MAX_AGE is shorter than JWT_REFRESH_EXPIRATION: sessions end at SESSION_MAX_AGE whatever the refresh token says')
  }
  return {
    stage,
    production,
    jwt: {
      // With ES256/RS256 the HMAC secret is never used; an empty key keeps the type simple and signs nothing.
      secret: jwtSecret ?? new Uint8Array(),
      previousSecret,
      previousSecretUntil: previousSecret === undefined && !asymmetric?.previousPublicKey ? undefined : e.JWT_PREVIOUS_SECRET_UNTIL,
      asymmetric,
      accessExpiration: e.JWT_ACCESS_EXPIRATION,
      refreshExpiration: e.JWT_REFRESH_EXPIRATION,
      refreshReuseGrace: e.JWT_REFRESH_REUSE_GRACE,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    },
    sessions: sessionPolicyOf(e),
    apiKeys: { environment: apiKeyEnvironmentOf(stage) },
    database: {
      url: e.DATABASE_URL,
      iam: readDatabaseAuth(e, production, problems),
      migrationUrl: e.MIGRATION_DATABASE_URL || e.DATABASE_URL,
      poolMax: e.DATABASE_POOL_MAX,
      connectTimeout: e.DATABASE_CONNECT_TIMEOUT,
      statementTimeout: e.DATABASE_STATEMENT_TIMEOUT,
      prepare: e.DATABASE_PREPARE === 'true',
    },
    authorizerSimpleResponses: e.AUTHORIZER_SIMPLE_RESPONSES === 'true',
    logLevel: e.LOG_LEVEL,
  }
}

/**
 * The authorizer's configuration alone: the core, checked as strictly (fails closed outside `local`), without
 * what the authorizer never reads, so its bundle carries none of it.
 */
export function loadAuthorizerConfig(env: Readonly<Record<string, string | undefined>>): AuthorizerConfig {
  const problems: string[] = []
  const warnings: string[] = []
  const core = readCore(parseEnv(CoreEnvSchema, env), problems, warnings)
  if (problems.length > 0) throw new ConfigError(problems)
  return { ...core, warnings }
}

/** Parses an environment into a Config, or throws a ConfigError naming every problem (never a secret's value). */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const e = parseEnv(envSchema(), env)
  const problems: string[] = []
  const warnings: string[] = []
  const core = readCore(e, problems, warnings)
  const { stage, production } = core
  const pseudonymKey = readSecret({
    name: 'PSEUDONYM_KEY',
    text: e.PSEUDONYM_KEY,
    developmentValue: INSECURE_DEVELOPMENT_PSEUDONYM_KEY,
    stage,
    production,
    problems,
    warnings,
  })
  const email = readEmailConfig(e, production, problems)
  const mfaKeyring = readMfaKeys(e.MFA_ENCRYPTION_KEYS, stage, production, problems, warnings)
  if (e.AUDIT_USER_VISIBLE_DAYS > e.AUDIT_RETENTION_DAYS) {
    problems.push('AUDIT_USER_VISIBLE_DAYS must not exceed AUDIT_RETENTION_DAYS (users cannot see events that are no longer kept)')
  }
  if (problems.length > 0) throw new ConfigError(problems)

  return {
    ...core,
    audit: { retentionDays: e.AUDIT_RETENTION_DAYS, userVisibleDays: e.AUDIT_USER_VISIBLE_DAYS },
    email,
    throttle: {
      account: {
        kind: 'backoff',
        free: e.LOGIN_FREE_ATTEMPTS,
        maxDelaySeconds: e.LOGIN_MAX_DELAY_SECONDS,
        quietSeconds: e.LOGIN_RESET_SECONDS,
      },
      address: {
        kind: 'window',
        limit: e.ADDRESS_MAX_FAILURES,
        windowSeconds: e.ADDRESS_WINDOW_SECONDS,
        blockSeconds: e.ADDRESS_BLOCK_SECONDS,
      },
      registration: {
        kind: 'window',
        limit: e.REGISTRATIONS_PER_ADDRESS,
        windowSeconds: e.REGISTRATION_WINDOW_SECONDS,
        blockSeconds: e.REGISTRATION_WINDOW_SECONDS,
      },
      emailRequests: {
        kind: 'window',
        limit: e.EMAIL_REQUESTS_PER_ADDRESS,
        windowSeconds: e.EMAIL_REQUEST_WINDOW_SECONDS,
        blockSeconds: e.EMAIL_REQUEST_WINDOW_SECONDS,
      },
      mfa: { kind: 'window', limit: e.MFA_MAX_FAILURES, windowSeconds: e.MFA_BLOCK_SECONDS, blockSeconds: e.MFA_BLOCK_SECONDS },
      accountMail: {
        minute: { kind: 'window', limit: 1, windowSeconds: 60, blockSeconds: 60 },
        hourly: { kind: 'window', limit: e.ACCOUNT_MAILS_PER_HOUR, windowSeconds: 3600, blockSeconds: 3600 },
      },
      retentionHours: e.THROTTLE_RETENTION_HOURS,
    },
    mfa: { keyring: mfaKeyring, issuer: e.PRODUCT_NAME, stepUpMaxAge: e.STEP_UP_MAX_AGE },
    apiKeys: { ...core.apiKeys, rotationOverlapHours: e.API_KEY_ROTATION_OVERLAP_HOURS },
    pseudonymKey: pseudonymKey ?? new Uint8Array(),
    bootstrapAdminLogin: e.BOOTSTRAP_ADMIN_LOGIN || undefined,
    warnings,
  }
}

/** What stage `local` mails from and links to when nothing is set: the local SES shows the mail, the token is in the link. */
export const DEVELOPMENT_EMAIL = {
  from: 'Attune Auth <no-reply@attune.localhost>',
  resetUrl: 'http://localhost:3000/reset-password#token={token}',
  verifyUrl: 'http://localhost:3000/verify-email#token={token}',
} as const

type Env = v.InferOutput<ReturnType<typeof envSchema>>

/**
 * The mail settings. Outside stage `local` the sender and both links are required (a reset mail with no way
 * back is worse than none), and the links must be https URLs with a `{token}` placeholder.
 */
function readEmailConfig(e: Env, production: boolean, problems: string[]): EmailConfig {
  const link = (name: string, text: string | undefined, developmentValue: string): string => {
    if (text === undefined || text.trim() === '') {
      if (production)
        problems.push(`${name} is required in production (a URL of your client with {token}, e.g. https://app.example/reset#token={token})`)
      return developmentValue
    }
    const value = text.trim()
    let url: URL | undefined
    try {
      url = new URL(value.replace('{token}', 'TOKEN'))
    } catch {
      url = undefined
    }
    if (!url || !value.includes('{token}')) problems.push(`${name} must be a URL containing {token}`)
    else if (production && url.protocol !== 'https:') problems.push(`${name} must be an https URL outside stage "${DEVELOPMENT_STAGE}"`)
    return value
  }
  if (e.EMAIL_FROM === undefined && production) problems.push('EMAIL_FROM is required in production (an address verified in SES)')
  return {
    from: e.EMAIL_FROM ?? DEVELOPMENT_EMAIL.from,
    productName: e.PRODUCT_NAME,
    resetUrl: link('PASSWORD_RESET_URL', e.PASSWORD_RESET_URL, DEVELOPMENT_EMAIL.resetUrl),
    verifyUrl: link('EMAIL_VERIFY_URL', e.EMAIL_VERIFY_URL, DEVELOPMENT_EMAIL.verifyUrl),
    resetTtl: e.PASSWORD_RESET_TTL,
    verifyTtl: e.EMAIL_VERIFY_TTL,
    sesEndpoint: e.SES_ENDPOINT,
    sesConfigurationSet: e.SES_CONFIGURATION_SET || undefined,
    mailerFunction: e.MAILER_FUNCTION || undefined,
    lambdaEndpoint: e.LAMBDA_ENDPOINT,
  }
}

interface SecretRule {
  name: string
  text: string | undefined
  /** What stage `local` uses when the variable is unset ('' for none: then it stays unset). */
  developmentValue: string
  stage: string
  production: boolean
  problems: string[]
  warnings: string[]
}

/**
 * A secret from the environment. Outside stage `local` it fails closed: it must be set, at least
 * MIN_SECRET_BYTES long, have MIN_SECRET_DISTINCT_BYTES distinct bytes, and not be a public development
 * value. On `local` a missing one becomes the development value, with a warning. Problems name the
 * variable and the rule, never the value.
 */
function readSecret({ name, text, developmentValue, stage, production, problems, warnings }: SecretRule): Uint8Array | undefined {
  if (text === undefined) {
    if (production) problems.push(`${name} is required in stage "${stage}"`)
    else if (developmentValue) warnings.push(`${name} not set: using an insecure development value (stage "${DEVELOPMENT_STAGE}" only)`)
    return developmentValue ? new TextEncoder().encode(developmentValue) : undefined
  }
  const bytes = new TextEncoder().encode(text)
  const weakness =
    text === INSECURE_DEVELOPMENT_SECRET || text === INSECURE_DEVELOPMENT_PSEUDONYM_KEY
      ? 'must not be the public development value'
      : bytes.length < MIN_SECRET_BYTES
        ? `must be at least ${MIN_SECRET_BYTES} bytes (256 bits)`
        : new Set(bytes).size < MIN_SECRET_DISTINCT_BYTES
          ? `must have at least ${MIN_SECRET_DISTINCT_BYTES} distinct bytes (it looks like a repeated pattern, not a random value)`
          : undefined
  if (weakness && production) problems.push(`${name} ${weakness}; generate one with \`openssl rand -base64 48\``)
  else if (weakness) warnings.push(`${name} ${weakness}; accepted only because stage "${DEVELOPMENT_STAGE}" is for development`)
  return bytes
}

/**
 * MFA_ENCRYPTION_KEYS (`id:base64 32 bytes[,id:base64...]`, the first seals). Fails closed outside stage
 * `local`: required, and never the public development key; on `local` a missing one is the development key.
 */
function readMfaKeys(
  text: string | undefined,
  stage: string,
  production: boolean,
  problems: string[],
  warnings: string[],
): SecretBoxKeyring {
  const development = parseMfaKeys(INSECURE_DEVELOPMENT_MFA_KEYS)
  if (text === undefined) {
    if (production) problems.push(`MFA_ENCRYPTION_KEYS is required in stage "${stage}"`)
    else warnings.push(`MFA_ENCRYPTION_KEYS not set: using an insecure development key (stage "${DEVELOPMENT_STAGE}" only)`)
    return development
  }
  try {
    const keyring = parseMfaKeys(text)
    if (production && [...keyring.keys.values(), keyring.current.key].some((key) => key.equals(development.current.key)))
      problems.push('MFA_ENCRYPTION_KEYS must not hold the public development key; generate one with `openssl rand -base64 32`')
    return keyring
  } catch (error) {
    // parseMfaKeys's messages name entries by position, never key material.
    problems.push(`MFA_ENCRYPTION_KEYS: ${error instanceof Error ? error.message : 'unreadable'}`)
    return development
  }
}

/** An RDS Proxy endpoint (`<name>.proxy-<id>.<region>.rds.amazonaws.com`). */
const RDS_PROXY_HOST = /\.proxy-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com$/

/** Hosts a connection to which never leaves the machine: TLS is not required for them. */
const LOCAL_DATABASE_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '[::1]', '']

/**
 * The database connection's rules. Outside stage `local` a connection that leaves the machine must verify the
 * server: `sslmode=verify-full` (postgres.js turns `require` into `rejectUnauthorized: false`, which a
 * man in the middle passes). With DATABASE_AUTH=iam: no password in DATABASE_URL, a user, TLS, and the function's
 * credentials to sign with. Problems name the rule, never the URL (it may hold a password).
 */
function readDatabaseAuth(e: CoreEnv, production: boolean, problems: string[]): AwsCredentials | undefined {
  const iam = e.DATABASE_AUTH === 'iam'
  const urls: [string, string | undefined][] = [
    ['DATABASE_URL', e.DATABASE_URL],
    ['MIGRATION_DATABASE_URL', e.MIGRATION_DATABASE_URL || undefined],
  ]
  for (const [name, text] of urls) {
    if (text === undefined) continue
    let url: URL | undefined
    try {
      url = new URL(text)
    } catch {
      url = undefined
    }
    if (!url || !/^postgres(ql)?:$/.test(url.protocol)) {
      problems.push(`${name} must be a postgres:// URL`)
      continue
    }
    const sslmode = url.searchParams.get('sslmode') ?? url.searchParams.get('ssl') ?? ''
    const verified = sslmode === 'verify-full' || url.searchParams.get('sslrootcert') === 'system'
    if (production && !verified && !LOCAL_DATABASE_HOSTS.includes(url.hostname)) {
      problems.push(
        `${name} must end with ?sslmode=verify-full outside stage "local" (sslmode=require does not check the server's certificate)`,
      )
    }
    if (name === 'DATABASE_URL' && RDS_PROXY_HOST.test(url.hostname) && e.DATABASE_PREPARE === 'true') {
      problems.push(
        'DATABASE_PREPARE must be false behind RDS Proxy (prepared statements pin its connections to one client: docs/DEPLOY.md)',
      )
    }
    if (!iam) continue
    if (url.password !== '') problems.push(`${name} must hold no password with DATABASE_AUTH=iam (the token replaces it)`)
    if (url.username === '') problems.push(`${name} must name the database user with DATABASE_AUTH=iam`)
    if (!verified) problems.push(`DATABASE_AUTH=iam needs sslmode=verify-full in ${name} (IAM tokens are sent over TLS only)`)
  }
  if (!iam) return undefined
  const region = e.AWS_REGION?.trim()
  if (!e.AWS_ACCESS_KEY_ID || !e.AWS_SECRET_ACCESS_KEY || !region) {
    problems.push("DATABASE_AUTH=iam needs the function's AWS credentials and AWS_REGION (Lambda sets them from its role)")
    return undefined
  }
  return {
    accessKeyId: e.AWS_ACCESS_KEY_ID,
    secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
    sessionToken: e.AWS_SESSION_TOKEN || undefined,
    region,
  }
}

/** Whether `publicText` (PEM) is the public key of `privateKey`. */
function publicHalfOf(privateKey: KeyObject, publicText: string): boolean {
  try {
    const given = createPublicKey(pem(publicText)).export({ type: 'spki', format: 'der' })
    return createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).equals(given)
  } catch {
    return false
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

/** Seconds the secrets read from SSM are used before they are read again (SECRETS_MAX_AGE). */
export const DEFAULT_SECRETS_MAX_AGE = 300

/** What the configuration is parsed from: `process.env`, with the secrets read from SSM once they are (refreshSecrets). */
let environment: Readonly<Record<string, string | undefined>> = process.env
/** When the secrets were last read (milliseconds since the epoch), or when a failed re-read may try again. */
let secretsReadAt: number | undefined

let current: Config | undefined

/**
 * With SECRETS_PATH set (every deployed stage), reads the secrets from SSM (lib/secrets.ts): on the first call,
 * then again once SECRETS_MAX_AGE seconds have passed, so a rotated secret reaches warm containers without a
 * deploy. When a value changed, every configuration is parsed anew on its next get, and what was built from the
 * old one is rebuilt (lib/app.ts). Every invocation awaits it first (lib/http/route.ts, the other handlers); it
 * costs nothing until the age passes. A failed first read throws (503); a failed re-read keeps the values it had
 * and answers the warning to log (tried again a minute later).
 */
export async function refreshSecrets(now: number = Date.now(), scope: SecretScope = { migration: false }): Promise<string | undefined> {
  const path = process.env['SECRETS_PATH']?.trim()
  if (!path) return undefined
  const maxAgeText = process.env['SECRETS_MAX_AGE']?.trim()
  const maxAge = maxAgeText && /^\d+$/.test(maxAgeText) ? Number(maxAgeText) : DEFAULT_SECRETS_MAX_AGE
  if (secretsReadAt !== undefined && now - secretsReadAt < maxAge * 1000) return undefined
  let next: Readonly<Record<string, string | undefined>>
  try {
    next = await withSecrets(process.env, path, scope)
  } catch (error) {
    if (secretsReadAt === undefined) throw error
    secretsReadAt = now - maxAge * 1000 + 60_000
    return `secrets could not be read again (${error instanceof SecretsUnavailableError ? error.message : 'failure'}): the values read before are kept`
  }
  secretsReadAt = now
  const changed = Object.keys({ ...next, ...environment }).some((name) => next[name] !== environment[name])
  if (changed) {
    environment = next
    current = undefined
    oauthConfig = undefined
    authorizerConfig = undefined
    publicConfig = undefined
  }
  return undefined
}

/** The process's configuration, parsed from its environment on first use (cold start) and kept until a secret changes. */
export function getConfig(): Config {
  current ??= loadConfig(environment)
  return current
}

/**
 * The sign-in providers' configuration (README "Sign in with OpenID Connect"), checked as strictly (fails closed
 * outside `local`). Apart from Config: only the provider sign-in and linking functions read it, so only their
 * bundles carry it. Per-provider variables have names of the providers' own, read from `env` as given.
 */
export function loadOAuthConfig(env: Readonly<Record<string, string | undefined>>): OAuthConfig {
  const problems: string[] = []
  const oauth = readOAuthConfig(env, (env['STAGE']?.trim() || '(unset)') !== DEVELOPMENT_STAGE, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  return oauth
}

let oauthConfig: OAuthConfig | undefined

/** The sign-in providers' configuration, parsed from the environment on first use (cold start) and kept until a secret changes. */
export function getOAuthConfig(): OAuthConfig {
  oauthConfig ??= loadOAuthConfig(environment)
  return oauthConfig
}

/**
 * What the public discovery functions (jwks, openid-configuration) need: the issuer, the algorithm and the public
 * keys, and nothing secret. They read no secret at all, and no SSM: the public key is JWT_PUBLIC_KEY (a plain
 * param); where JWT_PRIVATE_KEY is in the environment (stage `local`, the tests) its public half serves instead.
 */
export interface PublicConfig {
  production: boolean
  logLevel: LogLevel
  warnings: string[]
  jwt: {
    issuer: string
    algorithm: SigningAlgorithm
    /** ES256/RS256: the current public key, and the previous one during a rotation (until previousUntil). */
    publicKey: KeyObject | undefined
    previousPublicKey: KeyObject | undefined
    /** Milliseconds since the epoch. */
    previousUntil: number | undefined
  }
}

const PublicEnvSchema = v.object({
  STAGE: CoreEnvSchema.entries.STAGE,
  JWT_ISSUER: CoreEnvSchema.entries.JWT_ISSUER,
  JWT_ALGORITHM: CoreEnvSchema.entries.JWT_ALGORITHM,
  JWT_PUBLIC_KEY: v.optional(v.string()),
  JWT_PRIVATE_KEY: v.optional(v.string()),
  JWT_PREVIOUS_PUBLIC_KEY: v.optional(v.string()),
  JWT_PREVIOUS_SECRET_UNTIL: timestamp,
  LOG_LEVEL: CoreEnvSchema.entries.LOG_LEVEL,
})

export function loadPublicConfig(env: Readonly<Record<string, string | undefined>>): PublicConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''))
  const parsed = v.safeParse(PublicEnvSchema, present)
  if (!parsed.success) throw new ConfigError(parsed.issues.map((issue) => `${v.getDotPath(issue) ?? 'environment'} ${issue.message}`))
  const e = parsed.output
  const problems: string[] = []
  let publicKey: KeyObject | undefined
  let previousPublicKey: KeyObject | undefined
  if (e.JWT_ALGORITHM !== 'HS256') {
    const readPublic = (name: string, text: string): KeyObject | undefined => {
      try {
        return createPublicKey(pem(text))
      } catch {
        problems.push(`${name} is not a readable PEM key`)
        return undefined
      }
    }
    if (e.JWT_PUBLIC_KEY) publicKey = readPublic('JWT_PUBLIC_KEY', e.JWT_PUBLIC_KEY)
    else if (e.JWT_PRIVATE_KEY) publicKey = readPublic('JWT_PRIVATE_KEY', e.JWT_PRIVATE_KEY)
    else problems.push(`JWT_PUBLIC_KEY (the PEM public key) is required with JWT_ALGORITHM=${e.JWT_ALGORITHM}`)
    if (e.JWT_PREVIOUS_PUBLIC_KEY) previousPublicKey = readPublic('JWT_PREVIOUS_PUBLIC_KEY', e.JWT_PREVIOUS_PUBLIC_KEY)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return {
    production: (e.STAGE ?? '(unset)') !== DEVELOPMENT_STAGE,
    logLevel: e.LOG_LEVEL,
    warnings: [],
    jwt: { issuer: e.JWT_ISSUER, algorithm: e.JWT_ALGORITHM, publicKey, previousPublicKey, previousUntil: e.JWT_PREVIOUS_SECRET_UNTIL },
  }
}

let publicConfig: PublicConfig | undefined

/** The public discovery functions' configuration, parsed from the environment on first use (cold start) and kept. */
export function getPublicConfig(): PublicConfig {
  publicConfig ??= loadPublicConfig(environment)
  return publicConfig
}

let authorizerConfig: AuthorizerConfig | undefined

/** The authorizer's configuration, parsed from the environment on first use (cold start) and kept until a secret changes. */
export function getAuthorizerConfig(): AuthorizerConfig {
  authorizerConfig ??= loadAuthorizerConfig(environment)
  return authorizerConfig
}
