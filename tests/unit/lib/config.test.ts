import { describe, expect, it } from 'vitest'
import { ConfigError, INSECURE_DEVELOPMENT_SECRET, loadConfig } from '../../../lib/config.js'

const DATABASE_URL = 'postgres://u:p@127.0.0.1:5432/attune'
const STRONG_SECRET = 'x'.repeat(32)

describe('loadConfig', () => {
  it('applies the seed defaults: 3600 s access, 604800 s refresh, info logging', () => {
    const config = loadConfig({ DATABASE_URL, JWT_SECRET: STRONG_SECRET })
    expect(config.jwt.accessExpiration).toBe(3600)
    expect(config.jwt.refreshExpiration).toBe(604800)
    expect(config.logLevel).toBe('info')
    expect(config.stage).toBe('local')
    expect(config.production).toBe(false)
    expect(config.warnings).toEqual([])
  })

  it('reads JWT_ACCESS_EXPIRATION and JWT_REFRESH_EXPIRATION in seconds', () => {
    const config = loadConfig({ DATABASE_URL, JWT_SECRET: STRONG_SECRET, JWT_ACCESS_EXPIRATION: '900', JWT_REFRESH_EXPIRATION: '86400' })
    expect(config.jwt.accessExpiration).toBe(900)
    expect(config.jwt.refreshExpiration).toBe(86400)
  })

  it('uses the insecure development secret and warns "JWT_SECRET not set" in a development stage', () => {
    const config = loadConfig({ DATABASE_URL, STAGE: 'local' })
    expect(new TextDecoder().decode(config.jwt.secret)).toBe(INSECURE_DEVELOPMENT_SECRET)
    expect(config.jwt.insecureSecret).toBe(true)
    expect(config.warnings.join('\n')).toContain('JWT_SECRET not set')
  })

  it('refuses to start in a production stage without JWT_SECRET', () => {
    expect(() => loadConfig({ DATABASE_URL, STAGE: 'prod' })).toThrow(/JWT_SECRET is required/)
  })

  it('treats every stage other than local and test as production, including dev', () => {
    expect(() => loadConfig({ DATABASE_URL, STAGE: 'dev' })).toThrow(ConfigError)
    expect(loadConfig({ DATABASE_URL, STAGE: 'dev', JWT_SECRET: STRONG_SECRET }).production).toBe(true)
  })

  it('refuses a production JWT_SECRET shorter than 32 bytes without echoing it', () => {
    const secret = 'short-but-secret-value'
    let thrown: unknown
    try {
      loadConfig({ DATABASE_URL, STAGE: 'prod', JWT_SECRET: secret })
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(ConfigError)
    expect(String((thrown as Error).message)).toMatch(/at least 32 bytes/)
    expect(String((thrown as Error).message)).not.toContain(secret)
  })

  it('accepts a short secret in development with a warning', () => {
    const config = loadConfig({ DATABASE_URL, STAGE: 'test', JWT_SECRET: 'short' })
    expect(config.warnings.join('\n')).toMatch(/at least 32 bytes/)
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
    expect(() => loadConfig({ DATABASE_URL, JWT_ACCESS_EXPIRATION: '0' })).toThrow(/JWT_ACCESS_EXPIRATION/)
    expect(() => loadConfig({ DATABASE_URL, JWT_REFRESH_EXPIRATION: '-5' })).toThrow(/JWT_REFRESH_EXPIRATION/)
  })

  it('accepts LOG_LEVEL in any letter case', () => {
    expect(loadConfig({ DATABASE_URL, LOG_LEVEL: 'DEBUG' }).logLevel).toBe('debug')
  })

  it('bounds database timeouts by default, well under API Gateway’s 29 s', () => {
    const { database } = loadConfig({ DATABASE_URL })
    expect(database.connectTimeout).toBe(3)
    expect(database.statementTimeout).toBe(3000)
    expect(database.poolMax).toBe(1)
  })

  it('reads a previous secret with the end of its overlap', () => {
    const config = loadConfig({
      DATABASE_URL,
      JWT_SECRET: STRONG_SECRET,
      JWT_PREVIOUS_SECRET: 'p'.repeat(32),
      JWT_PREVIOUS_SECRET_UNTIL: '2026-12-31T00:00:00Z',
    })
    expect(config.jwt.previousSecretUntil).toBe(Date.UTC(2026, 11, 31))
    expect(new TextDecoder().decode(config.jwt.previousSecret)).toBe('p'.repeat(32))
  })

  it('refuses a previous secret without the end of its overlap', () => {
    expect(() => loadConfig({ DATABASE_URL, JWT_SECRET: STRONG_SECRET, JWT_PREVIOUS_SECRET: 'p'.repeat(32) })).toThrow(
      /JWT_PREVIOUS_SECRET_UNTIL is required/,
    )
  })

  it('defaults the refresh reuse grace window to 10 seconds, and allows 0', () => {
    expect(loadConfig({ DATABASE_URL }).jwt.refreshReuseGrace).toBe(10)
    expect(loadConfig({ DATABASE_URL, JWT_REFRESH_REUSE_GRACE: '0' }).jwt.refreshReuseGrace).toBe(0)
  })
})
