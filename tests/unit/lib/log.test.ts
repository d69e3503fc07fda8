import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import { configureLogging, createLogger, logger } from '../../../lib/log.js'
import { captureLogs } from '../../support/capture-logs.js'
import { lambdaContext } from '../../support/events.js'

function capture() {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger('svc', (line) => lines.push(JSON.parse(line)))
  return { logger, lines }
}

describe('logger', () => {
  it('writes one JSON line per entry with level, message, timestamp, service and the entry’s fields', () => {
    const { logger, lines } = capture()
    logger.info('login succeeded', { event: 'auth.login', identityId: 7 })
    expect(lines).toEqual([
      {
        level: 'INFO',
        message: 'login succeeded',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        service: 'svc',
        event: 'auth.login',
        identityId: 7,
      },
    ])
  })

  it('drops entries below the level, and logs nothing when silent', () => {
    const { logger, lines } = capture()
    logger.debug('hidden')
    logger.setLogLevel('debug')
    logger.debug('shown')
    logger.setLogLevel('silent')
    logger.error('hidden too')
    expect(lines.map((l) => l['message'])).toEqual(['shown'])
    expect(logger.getLevelName()).toBe('SILENT')
  })

  it('adds the Lambda request id and cold start flag, and appended keys until reset', () => {
    const { logger, lines } = capture()
    const context = lambdaContext()
    logger.addContext(context)
    logger.appendKeys({ apiRequestId: 'api-1' })
    logger.info('first')
    logger.resetKeys()
    logger.addContext(lambdaContext())
    logger.info('second')
    expect(lines[0]).toMatchObject({ function_request_id: context.awsRequestId, cold_start: true, apiRequestId: 'api-1' })
    expect(lines[1]).toMatchObject({ cold_start: false })
    expect(lines[1]).not.toHaveProperty('apiRequestId')
  })

  it('writes an error as its name, message, stack, own fields and cause', () => {
    const { logger, lines } = capture()
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })
    logger.error('request failed', { error: new Error('query failed', { cause }) })
    expect(lines[0]?.['error']).toMatchObject({
      name: 'Error',
      message: 'query failed',
      stack: expect.any(String),
      cause: { message: 'connect ECONNREFUSED', code: 'ECONNREFUSED' },
    })
  })

  it('still writes a line when a field cannot be serialised', () => {
    const { logger, lines } = capture()
    const loop: Record<string, unknown> = {}
    loop['self'] = loop
    logger.warn('odd', { loop })
    expect(lines[0]).toMatchObject({ level: 'WARN', message: 'odd', note: 'fields could not be serialised' })
  })

  it('logs the configuration’s warnings once per container, e.g. "JWT_SECRET not set" in development', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/x', STAGE: 'local', LOG_LEVEL: 'warn' })
    const logs = captureLogs()
    const level = logger.getLevelName().toLowerCase() as Parameters<typeof logger.setLogLevel>[0]
    try {
      configureLogging(config)
      configureLogging(config)
    } finally {
      logs.stop()
      logger.setLogLevel(level)
    }
    const warnings = logs.entries().filter((e) => e['level'] === 'WARN')
    expect(warnings.map((w) => String(w['message']).split(':')[0])).toEqual([
      'JWT_SECRET not set',
      'PSEUDONYM_KEY not set',
      'MFA_ENCRYPTION_KEYS not set',
    ])
  })
})
