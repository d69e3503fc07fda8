/**
 * The composition root: configuration, logger, database and services, built once per container
 * on first use and shared by every invocation it serves. The functions that hash passwords pass
 * `passwordHashing` in (lib/passwords.ts); the others never load Argon2.
 */
import type { AuthService } from './auth.js'
import { createAuthService } from './auth.js'
import type { Config } from './config.js'
import { getConfig } from './config.js'
import type { Sql } from './db/client.js'
import { createSql } from './db/client.js'
import { createCredentialRepository } from './db/credentials.js'
import type { IdentityRepository } from './db/identities.js'
import { createIdentityRepository } from './db/identities.js'
import type { SessionRepository } from './db/sessions.js'
import { createSessionRepository } from './db/sessions.js'
import { configureLogging, logger } from './log.js'
import type { PasswordHashing } from './passwords.js'
import { createPseudonymizer } from './pseudonyms.js'
import type { TokenService } from './tokens.js'
import { createTokenService } from './tokens.js'

export interface App {
  config: Config
  sql: Sql
  identities: IdentityRepository
  sessions: SessionRepository
  tokens: TokenService
  auth: AuthService
}

type Parts = Omit<App, 'auth'>

function authFor({ config, sql, identities, sessions, tokens }: Parts, passwords: PasswordHashing | undefined): AuthService {
  return createAuthService({
    identities,
    sessions,
    credentials: createCredentialRepository(sql, config.sessions),
    tokens,
    logger,
    pseudonymize: createPseudonymizer(config.pseudonymKey),
    refreshReuseGrace: config.jwt.refreshReuseGrace,
    passwords,
  })
}

export function createApp(config: Config, passwords?: PasswordHashing): App {
  configureLogging(config)
  const sql = createSql(config.database)
  const parts: Parts = {
    config,
    sql,
    identities: createIdentityRepository(sql, config.sessions),
    sessions: createSessionRepository(sql, config.sessions),
    tokens: createTokenService(config.jwt),
  }
  return { ...parts, auth: authFor(parts, passwords) }
}

let app: App | undefined
let withPasswords = false

/** The container's app; a function that hashes passes `passwordHashing` (the first such call adds it). */
export function getApp(passwords?: PasswordHashing): App {
  if (!app) app = createApp(getConfig(), passwords)
  else if (passwords && !withPasswords) app = { ...app, auth: authFor(app, passwords) }
  withPasswords ||= passwords !== undefined
  return app
}
