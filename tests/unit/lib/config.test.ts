import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  INSECURE_DEVELOPMENT_MFA_KEYS,
  INSECURE_DEVELOPMENT_PSEUDONYM_KEY,
  INSECURE_DEVELOPMENT_SECRET,
  loadAuthorizerConfig,
  loadConfig,
} from '../../../lib/config.js'
import { createSql } from '../../../lib/db/client.js'

const DATABASE_URL = 'postgres://u:p@127.0.0.1:5432/attune'
/** 48 random bytes as `openssl rand -base64 48` prints them: what a deployer puts in SSM. */
const STRONG_SECRET = 'q3Vh1lV8b0m4f7YxN2Zp9kR6sT5uW1aC3dE7gJ0hL4nP8rX2yB6vM9cQ5tF1zK0'
const PSEUDONYM_KEY = 'Jx7Rk2Lp9Vm4Qs6Tn1Wb8Yc3Zd5Fg0Hh2Kj4Lm6Np8Qr1St3Uv5Wx7Yz9Ab2Cd4'
/** A production environment that passes every rule; each test changes one thing. */
/** The mail settings production requires (README "Email and password reset"). */
const MAIL = {
  EMAIL_FROM: 'Example <no-reply@example.com>',
  PASSWORD_RESET_URL: 'https://app.example.com/reset#token={token}',
  EMAIL_VERIFY_URL: 'https://app.example.com/verify#token={token}',
}
const MFA_ENCRYPTION_KEYS = `k2:${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')},k1:${Buffer.from('fedcba9876543210fedcba9876543210').toString('base64')}`
const PRODUCTION = { DATABASE_URL, STAGE: 'prod', JWT_SECRET: STRONG_SECRET, PSEUDONYM_KEY, MFA_ENCRYPTION_KEYS, ...MAIL }

const problemsOf = (env: Record<string, string | undefined>): string => {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n')
    throw error
  }
  return ''
}

describe('loadConfig', () => {
  it('applies the documented defaults: 3600 s access, 604800 s refresh, info logging', () => {
    const config = loadConfig(PRODUCTION)
    expect(config.jwt.accessExpiration).toBe(3600)
    expect(config.jwt.refreshExpiration).toBe(604800)
    expect(config.logLevel).toBe('info')
    expect(config.stage).toBe('prod')
    expect(config.production).toBe(true)
    expect(config.warnings).toEqual([])
  })

  it('defaults the throttling: 5 free attempts per account, waits up to 15 min, 30 quiet min; 20 failures per address per 10 min; 10 registrations per address per hour; 20 email requests per address per hour, one mail a minute and 5 an hour per account', () => {
    expect(loadConfig(PRODUCTION).throttle).toEqual({
      account: { kind: 'backoff', free: 5, maxDelaySeconds: 900, quietSeconds: 1800 },
      address: { kind: 'window', limit: 20, windowSeconds: 600, blockSeconds: 600 },
      registration: { kind: 'window', limit: 10, windowSeconds: 3600, blockSeconds: 3600 },
      emailRequests: { kind: 'window', limit: 20, windowSeconds: 3600, blockSeconds: 3600 },
      mfa: { kind: 'window', limit: 10, windowSeconds: 900, blockSeconds: 900 },
      accountMail: {
        minute: { kind: 'window', limit: 1, windowSeconds: 60, blockSeconds: 60 },
        hourly: { kind: 'window', limit: 5, windowSeconds: 3600, blockSeconds: 3600 },
      },
      retentionHours: 24,
    })
    expect(loadConfig({ ...PRODUCTION, LOGIN_FREE_ATTEMPTS: '3', ADDRESS_MAX_FAILURES: '50' }).throttle).toMatchObject({
      account: { free: 3 },
      address: { limit: 50 },
    })
  })

  it('defaults sessions to 30 days at most, 100 per identity, kept 30 days after they end', () => {
    expect(loadConfig(PRODUCTION).sessions).toEqual({ idleLifetime: 604800, maxAge: 2592000, maxPerIdentity: 100, retentionDays: 30 })
    const custom = loadConfig({ ...PRODUCTION, SESSION_MAX_AGE: '86400', MAX_SESSIONS_PER_IDENTITY: '5', SESSION_RETENTION_DAYS: '7' })
    expect(custom.sessions).toMatchObject({ maxAge: 86400, maxPerIdentity: 5, retentionDays: 7 })
  })

  it('reads JWT_ACCESS_EXPIRATION and JWT_REFRESH_EXPIRATION in seconds', () => {
    const config = loadConfig({ ...PRODUCTION, JWT_ACCESS_EXPIRATION: '900', JWT_REFRESH_EXPIRATION: '86400' })
    expect(config.jwt.accessExpiration).toBe(900)
    expect(config.jwt.refreshExpiration).toBe(86400)
  })

  it('uses the development values, with warnings, only on stage local', () => {
    const config = loadConfig({ DATABASE_URL, STAGE: 'local' })
    expect(config.production).toBe(false)
    expect(new TextDecoder().decode(config.jwt.secret)).toBe(INSECURE_DEVELOPMENT_SECRET)
    expect(new TextDecoder().decode(config.pseudonymKey)).toBe(INSECURE_DEVELOPMENT_PSEUDONYM_KEY)
    expect(config.warnings.join('\n')).toContain('JWT_SECRET not set')
    expect(config.warnings.join('\n')).toContain('PSEUDONYM_KEY not set')
  })

  it('treats an unset STAGE as production: no development secret, the function does not start', () => {
    expect(problemsOf({ DATABASE_URL })).toMatch(/JWT_SECRET is required in stage "\(unset\)"/)
    expect(loadConfig({ DATABASE_URL, JWT_SECRET: STRONG_SECRET, PSEUDONYM_KEY, MFA_ENCRYPTION_KEYS, ...MAIL }).production).toBe(true)
  })

  it('treats every stage other than local as production, test and dev included', () => {
    for (const STAGE of ['test', 'dev', 'prod', 'Local', 'local2']) {
      expect(problemsOf({ DATABASE_URL, STAGE })).toMatch(/JWT_SECRET is required/)
      expect(problemsOf({ DATABASE_URL, STAGE })).toMatch(/PSEUDONYM_KEY is required/)
      expect(loadConfig({ ...PRODUCTION, STAGE }).production).toBe(true)
    }
  })

  it('refuses weak secrets outside local, naming the variable and the rule but never the value', () => {
    const weak = {
      'the public development value': INSECURE_DEVELOPMENT_SECRET,
      'under 32 bytes': 'short-but-secret-value',
      'one repeated character': 'a'.repeat(32),
      'a short pattern repeated': 'abcd'.repeat(16),
      '15 distinct bytes': 'abcdefghijklmno'.repeat(3),
    }
    for (const [why, value] of Object.entries(weak)) {
      for (const name of ['JWT_SECRET', 'PSEUDONYM_KEY', 'JWT_PREVIOUS_SECRET']) {
        const env = { ...PRODUCTION, JWT_PREVIOUS_SECRET_UNTIL: '2026-12-31T00:00:00Z', [name]: value }
        const problems = problemsOf(env)
        expect(problems, `${name}: ${why}`).toMatch(new RegExp(`^${name} must`, 'm'))
        expect(problems, `${name}: ${why}`).not.toContain(value)
      }
    }
    expect(problemsOf({ ...PRODUCTION, PSEUDONYM_KEY: INSECURE_DEVELOPMENT_PSEUDONYM_KEY })).toMatch(/public development value/)
  })

  it('accepts a weak secret on stage local, with a warning', () => {
    const config = loadConfig({ DATABASE_URL, STAGE: 'local', JWT_SECRET: 'short' })
    expect(config.warnings.join('\n')).toMatch(/JWT_SECRET must be at least 32 bytes/)
  })

  it('needs no JWT_SECRET with ES256/RS256 (the private key signs)', () => {
    expect(problemsOf({ ...PRODUCTION, JWT_SECRET: undefined, JWT_ALGORITHM: 'ES256' })).not.toMatch(/JWT_SECRET/)
  })

  it('names every invalid variable at once', () => {
    try {
      loadConfig({ JWT_ACCESS_EXPIRATION: 'soon', LOG_LEVEL: 'loud' })
      expect.unreachable()
    } catch (error) {
      const problems = (error as ConfigError).problems.join('\n')
      expect(problems).toMatch(/DATABASE_URL/)
      expect(problems).toMatch(/JWT_ACCESS_EXPIRATION/)
      expect(problems).toMatch(/LOG_LEVEL/)
    }
  })

  it('refuses a zero or negative expiration', () => {
    expect(() => loadConfig({ ...PRODUCTION, JWT_ACCESS_EXPIRATION: '0' })).toThrow(/JWT_ACCESS_EXPIRATION/)
    expect(() => loadConfig({ ...PRODUCTION, JWT_REFRESH_EXPIRATION: '-5' })).toThrow(/JWT_REFRESH_EXPIRATION/)
  })

  it('accepts LOG_LEVEL in any letter case', () => {
    expect(loadConfig({ ...PRODUCTION, LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug')
  })

  it('bounds database timeouts by default, well under API Gateway’s 29 s', () => {
    const { database } = loadConfig(PRODUCTION)
    expect(database.connectTimeout).toBe(3)
    expect(database.statementTimeout).toBe(3000)
    expect(database.poolMax).toBe(1)
  })

  it('reads a previous secret with the end of its overlap', () => {
    const config = loadConfig({
      ...PRODUCTION,
      JWT_PREVIOUS_SECRET: PSEUDONYM_KEY,
      JWT_PREVIOUS_SECRET_UNTIL: '2026-12-31T00:00:00Z',
    })
    expect(config.jwt.previousSecretUntil).toBe(Date.UTC(2026, 11, 31))
    expect(new TextDecoder().decode(config.jwt.previousSecret)).toBe(PSEUDONYM_KEY)
  })

  it('refuses a previous secret without the end of its overlap', () => {
    expect(() => loadConfig({ ...PRODUCTION, JWT_PREVIOUS_SECRET: PSEUDONYM_KEY })).toThrow(/JWT_PREVIOUS_SECRET_UNTIL is required/)
  })

  it('defaults the refresh reuse grace window to 5 seconds, and allows 0', () => {
    expect(loadConfig(PRODUCTION).jwt.refreshReuseGrace).toBe(5)
    expect(loadConfig({ ...PRODUCTION, JWT_REFRESH_REUSE_GRACE: '0' }).jwt.refreshReuseGrace).toBe(0)
  })
})

describe('loadAuthorizerConfig', () => {
  it('reads the core alone: the same tokens, sessions and database as the full configuration', () => {
    const full = loadConfig(PRODUCTION)
    const core = loadAuthorizerConfig(PRODUCTION)
    expect(core).toEqual({
      stage: full.stage,
      production: full.production,
      jwt: full.jwt,
      sessions: full.sessions,
      database: full.database,
      authorizerSimpleResponses: full.authorizerSimpleResponses,
      apiKeys: { environment: 'live' },
      logLevel: full.logLevel,
      warnings: full.warnings,
    })
  })

  it('fails closed on the core as strictly, and needs nothing the authorizer never reads', () => {
    expect(() => loadAuthorizerConfig({ DATABASE_URL, STAGE: 'prod' })).toThrow(/JWT_SECRET is required in stage "prod"/)
    expect(() => loadAuthorizerConfig({ DATABASE_URL, STAGE: 'prod', JWT_SECRET: 'short' })).toThrow(/JWT_SECRET must be at least 32 bytes/)
    // No mail settings, pseudonym key or MFA keys: not its business.
    expect(loadAuthorizerConfig({ DATABASE_URL, STAGE: 'prod', JWT_SECRET: STRONG_SECRET }).production).toBe(true)
  })
})

describe('loadConfig: two-factor keys', () => {
  it('reads MFA_ENCRYPTION_KEYS, the first one sealing, the others only opening', () => {
    const { keyring, issuer, stepUpMaxAge } = loadConfig(PRODUCTION).mfa
    expect(keyring.current.id).toBe('k2')
    expect([...keyring.keys.keys()].sort()).toEqual(['k1', 'k2'])
    expect({ issuer, stepUpMaxAge }).toEqual({ issuer: 'Attune Auth', stepUpMaxAge: 300 })
  })

  it('fails closed outside local: missing, malformed or the public development key stop the function, naming no key', () => {
    expect(problemsOf({ ...PRODUCTION, MFA_ENCRYPTION_KEYS: undefined })).toMatch(/MFA_ENCRYPTION_KEYS is required in stage "prod"/)
    const short = problemsOf({ ...PRODUCTION, MFA_ENCRYPTION_KEYS: `k1:${Buffer.from('too short').toString('base64')}` })
    expect(short).toMatch(/MFA_ENCRYPTION_KEYS/)
    expect(short).not.toContain(Buffer.from('too short').toString('base64'))
    expect(problemsOf({ ...PRODUCTION, MFA_ENCRYPTION_KEYS: INSECURE_DEVELOPMENT_MFA_KEYS })).toMatch(/public development key/)
    // On local, a missing one is the development key, with a warning.
    expect(loadConfig({ ...PRODUCTION, STAGE: 'local', MFA_ENCRYPTION_KEYS: undefined }).mfa.keyring.current.id).toBe('dev')
  })
})

describe('loadConfig: mail', () => {
  it('requires the sender and both links outside local, links as https URLs with {token}', () => {
    const { EMAIL_FROM: _, PASSWORD_RESET_URL: __, EMAIL_VERIFY_URL: ___, ...withoutMail } = PRODUCTION
    const problems = problemsOf(withoutMail)
    expect(problems).toMatch(/EMAIL_FROM is required in production/)
    expect(problems).toMatch(/PASSWORD_RESET_URL is required in production/)
    expect(problems).toMatch(/EMAIL_VERIFY_URL is required in production/)
    expect(problemsOf({ ...PRODUCTION, PASSWORD_RESET_URL: 'http://app.example.com/reset#token={token}' })).toMatch(
      /PASSWORD_RESET_URL must be an https URL/,
    )
    expect(problemsOf({ ...PRODUCTION, EMAIL_VERIFY_URL: 'https://app.example.com/verify' })).toMatch(
      /EMAIL_VERIFY_URL must be a URL containing \{token\}/,
    )
    expect(problemsOf({ ...PRODUCTION, EMAIL_FROM: 'a@example.com\r\nBcc: victim@example.com' })).toMatch(/EMAIL_FROM must be one line/)
  })

  it('defaults tokens to 30 minutes (reset) and 24 hours (verification), and local to links on localhost', () => {
    expect(loadConfig(PRODUCTION).email).toMatchObject({ resetTtl: 1800, verifyTtl: 86400, productName: 'Attune Auth' })
    const local = loadConfig({ DATABASE_URL, STAGE: 'local' }).email
    expect(local.resetUrl).toMatch(/^http:\/\/localhost:\d+\/.*\{token\}$/)
    expect(local.from).toMatch(/@attune\.localhost>$/)
  })
})

describe('loadConfig: the database connection', () => {
  const REMOTE = 'postgres://attune_app@attune-db-prod.proxy-abc.eu-west-1.rds.amazonaws.com:5432/attune'
  const CREDENTIALS = {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_SESSION_TOKEN: 'token',
    DATABASE_PREPARE: 'false',
  }

  it('refuses a remote database without certificate verification outside local, never naming the URL', () => {
    const problems = problemsOf({ ...PRODUCTION, DATABASE_URL: 'postgres://u:hunter2@db.example.com:5432/attune?sslmode=require' })
    expect(problems).toContain('DATABASE_URL must end with ?sslmode=verify-full outside stage "local"')
    expect(problems).not.toContain('hunter2')
    expect(problemsOf({ ...PRODUCTION, DATABASE_URL: 'postgres://u:p@db.example.com/attune' })).toContain('sslmode=verify-full')
    expect(
      loadConfig({ ...PRODUCTION, DATABASE_URL: 'postgres://u:p@db.example.com/attune?sslmode=verify-full' }).database.iam,
    ).toBeUndefined()
    // This machine's database, and stage local, need no TLS.
    expect(() => loadConfig({ ...PRODUCTION, DATABASE_URL: 'postgres://u:p@localhost:5432/attune' })).not.toThrow()
    expect(() => loadConfig({ ...PRODUCTION, STAGE: 'local', DATABASE_URL: 'postgres://u:p@db.example.com/attune' })).not.toThrow()
  })

  it('signs in with the function’s role (DATABASE_AUTH=iam): no password, a user, TLS, and credentials required', () => {
    const config = loadConfig({ ...PRODUCTION, ...CREDENTIALS, DATABASE_AUTH: 'iam', DATABASE_URL: `${REMOTE}?sslmode=verify-full` })
    expect(config.database.iam).toEqual({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'token',
      region: 'eu-west-1',
    })
    const problems = problemsOf({
      ...PRODUCTION,
      DATABASE_AUTH: 'iam',
      DATABASE_URL: 'postgres://attune_app:a-password@attune-db-prod.proxy-abc.eu-west-1.rds.amazonaws.com:5432/attune?sslmode=require',
    })
    expect(problems).toContain('DATABASE_URL must hold no password with DATABASE_AUTH=iam')
    expect(problems).toContain('DATABASE_AUTH=iam needs sslmode=verify-full')
    expect(problems).toContain("DATABASE_AUTH=iam needs the function's AWS credentials and AWS_REGION")
    expect(problems).not.toContain('a-password')
  })

  it('refuses prepared statements behind RDS Proxy, which would pin its connections', () => {
    const url = `${REMOTE}?sslmode=verify-full`
    expect(problemsOf({ ...PRODUCTION, DATABASE_URL: url })).toContain('DATABASE_PREPARE must be false behind RDS Proxy')
    expect(loadConfig({ ...PRODUCTION, DATABASE_URL: url, DATABASE_PREPARE: 'false' }).database.prepare).toBe(false)
  })

  it('runs the migrations as their own login when MIGRATION_DATABASE_URL is set, under the same rules', () => {
    expect(loadConfig(PRODUCTION).database.migrationUrl).toBe(DATABASE_URL)
    const owner = 'postgres://attune_master@db.example.com:5432/attune?sslmode=verify-full'
    expect(loadConfig({ ...PRODUCTION, MIGRATION_DATABASE_URL: owner }).database.migrationUrl).toBe(owner)
    expect(problemsOf({ ...PRODUCTION, MIGRATION_DATABASE_URL: 'postgres://m:p@db.example.com/attune?sslmode=require' })).toContain(
      'MIGRATION_DATABASE_URL must end with ?sslmode=verify-full',
    )
  })

  it('gives postgres.js a fresh IAM token as the password of every new connection', async () => {
    const config = loadConfig({ ...PRODUCTION, ...CREDENTIALS, DATABASE_AUTH: 'iam', DATABASE_URL: `${REMOTE}?sslmode=verify-full` })
    const sql = createSql(config.database)
    const { pass } = sql.options as unknown as { pass: () => Promise<string> }
    const token = await pass()
    expect(token).toMatch(/^attune-db-prod\.proxy-abc\.eu-west-1\.rds\.amazonaws\.com:5432\/\?/)
    const query = new URLSearchParams(token.split('?')[1])
    expect([query.get('Action'), query.get('DBUser')]).toEqual(['connect', 'attune_app'])
    expect(token).toContain('X-Amz-Credential=AKIDEXAMPLE%2F')
    await sql.end()
  })
})

describe('loadConfig: the published public key', () => {
  it('refuses a JWT_PUBLIC_KEY that is not the public half of JWT_PRIVATE_KEY', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const keys = { JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: String(privateKey.export({ type: 'pkcs8', format: 'pem' })) }
    const own = String(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }))
    expect(() => loadConfig({ ...PRODUCTION, ...keys, JWT_PUBLIC_KEY: own })).not.toThrow()
    expect(
      problemsOf({ ...PRODUCTION, ...keys, JWT_PUBLIC_KEY: String(other.publicKey.export({ type: 'spki', format: 'pem' })) }),
    ).toContain('JWT_PUBLIC_KEY is not the public half of JWT_PRIVATE_KEY')
  })
})
