/**
 * The composition root: configuration, logger, database and services, built once per container
 * on first use and shared by every invocation it serves.
 */
import type { AuthService } from './auth.js'
import { createAuthService } from './auth.js'
import type { Config } from './config.js'
import { getConfig } from './config.js'
import type { Sql } from './db/client.js'
import { createSql } from './db/client.js'
import type { IdentityRepository } from './db/identities.js'
import { createIdentityRepository } from './db/identities.js'
import type { SessionRepository } from './db/sessions.js'
import { createSessionRepository } from './db/sessions.js'
import { logger, setLogLevel } from './log.js'
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

export function createApp(config: Config): App {
  setLogLevel(config.logLevel)
  for (const warning of config.warnings) logger.warn(warning)
  const sql = createSql(config.database)
  const identities = createIdentityRepository(sql)
  const sessions = createSessionRepository(sql)
  const tokens = createTokenService(config.jwt)
  const auth = createAuthService({
    identities,
    sessions,
    tokens,
    logger,
    sessionLifetime: config.jwt.refreshExpiration,
    refreshReuseGrace: config.jwt.refreshReuseGrace,
  })
  return { config, sql, identities, sessions, tokens, auth }
}

let app: App | undefined

export function getApp(): App {
  app ??= createApp(getConfig())
  return app
}
