/**
 * The composition root: configuration, logger, database, repositories and tokens, built once per container
 * on first use and shared by every invocation it serves. Each function builds the rules it needs on top of
 * it (`perContainer`), passing what only it needs (Argon2, the confusables data) as required dependencies:
 * the functions that do not hash never load Argon2.
 */
import type { Config } from './config.js'
import { getConfig } from './config.js'
import type { AuditRepository } from './db/audit.js'
import { createAuditRepository } from './db/audit.js'
import type { Sql } from './db/client.js'
import { createSql } from './db/client.js'
import type { CommonPasswordRepository } from './db/common-passwords.js'
import { createCommonPasswordRepository } from './db/common-passwords.js'
import type { CredentialRepository } from './db/credentials.js'
import { createCredentialRepository } from './db/credentials.js'
import type { IdentityRepository } from './db/identities.js'
import { createIdentityRepository } from './db/identities.js'
import type { LoginAttemptRepository } from './db/login-attempts.js'
import { createLoginAttemptRepository } from './db/login-attempts.js'
import type { SessionRepository } from './db/sessions.js'
import { createSessionRepository } from './db/sessions.js'
import type { ThrottleRepository } from './db/throttle.js'
import { createThrottleRepository } from './db/throttle.js'
import type { Logger } from './log.js'
import { configureLogging, logger } from './log.js'
import type { Pseudonymize } from './pseudonyms.js'
import { createKeyedHash, createPseudonymizer } from './pseudonyms.js'
import type { ThrottleKeys } from './throttle/keys.js'
import { createThrottleKeys } from './throttle/keys.js'
import type { TokenService } from './tokens/service.js'
import { createTokenService } from './tokens/service.js'

export interface App {
  config: Config
  sql: Sql
  logger: Logger
  tokens: TokenService
  pseudonymize: Pseudonymize
  throttleKeys: ThrottleKeys
  identities: IdentityRepository
  sessions: SessionRepository
  credentials: CredentialRepository
  throttle: ThrottleRepository
  loginAttempts: LoginAttemptRepository
  commonPasswords: CommonPasswordRepository
  audit: AuditRepository
}

export function createApp(config: Config): App {
  configureLogging(config)
  const sql = createSql(config.database)
  return {
    config,
    sql,
    logger,
    tokens: createTokenService(config.jwt),
    pseudonymize: createPseudonymizer(config.pseudonymKey),
    throttleKeys: createThrottleKeys(createKeyedHash(config.pseudonymKey)),
    identities: createIdentityRepository(sql, config.sessions),
    sessions: createSessionRepository(sql, config.sessions),
    credentials: createCredentialRepository(sql, config.sessions),
    throttle: createThrottleRepository(sql),
    loginAttempts: createLoginAttemptRepository(sql, config.throttle),
    commonPasswords: createCommonPasswordRepository(sql),
    audit: createAuditRepository(sql),
  }
}

let app: App | undefined

/**
 * The container's app, built from the configuration on first use, and again when a rotated secret changed it
 * (lib/config.ts refreshSecrets): the old database pool is then closed once its queries are done.
 */
export function getApp(): App {
  const config = getConfig()
  if (app?.config !== config) {
    const old = app
    app = createApp(config)
    if (old) void old.sql.end({ timeout: 5 }).catch(() => {})
  }
  return app
}

/** `build(getApp())`, made on first call and kept while the app is the same: a function's own rules. */
export function perContainer<T>(build: (app: App) => T): () => T {
  let built: { value: T; app: App } | undefined
  return () => {
    const current = getApp()
    if (built?.app !== current) built = { value: build(current), app: current }
    return built.value
  }
}
