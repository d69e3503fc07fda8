/** The optional security alarms (param alarmTopicArn), packaged offline: off by default, and what they watch when on. */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PackagedStage } from '../support/osls-package.js'
import { packageStage } from '../support/osls-package.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = ['serverless.yml', 'package.json', 'functions', 'lib', 'infra', 'packages']
const SECRETS = {
  '/attune-auth/prod/jwt-secret': 'prod-jwt-secret-of-at-least-32-bytes, random enough',
  '/attune-auth/prod/pseudonym-key': 'prod-pseudonym-key-of-at-least-32-bytes, random too',
  '/attune-auth/prod/mfa-encryption-keys': 'k1:cHJvZC1tZmEta2V5LXh4eHh4eHh4eHh4eHh4eHh4eHg=',
  '/attune-auth/prod/database-url': 'postgres://app@prod.proxy.example:5432/attune',
}
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:security-alerts'

/** CloudWatch Logs' JSON filter pattern `{ $.a = "x" && $.b = "y" }` as a predicate on a parsed log line. */
function matches(pattern: string, line: Record<string, unknown>): boolean {
  const terms = [...pattern.matchAll(/\$\.(\w+) = "([^"]*)"/g)]
  expect(pattern.replace(/\$\.(\w+) = "([^"]*)"/g, 'T')).toMatch(/^\{ T( && T)* \}$/)
  return terms.every(([, key, value]) => line[key as string] === value)
}

let off: PackagedStage
let on: PackagedStage

beforeAll(async () => {
  ;[off, on] = await Promise.all([
    packageStage({ root: ROOT, files: FILES, stage: 'prod', parameters: SECRETS }),
    packageStage({ root: ROOT, files: FILES, stage: 'prod', parameters: SECRETS, params: { alarmTopicArn: TOPIC } }),
  ])
}, 180_000)

afterAll(async () => {
  await off?.cleanup()
  await on?.cleanup()
})

describe('security alarms', () => {
  it('are off by default: their condition is false', () => {
    expect(off.conditions['SecurityAlarmsEnabled']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] })
    for (const id of ['RefreshTokenReuseMetricFilter', 'FailedLoginMetricFilter', 'RefreshTokenReuseAlarm', 'FailedLoginSpikeAlarm']) {
      expect((off.resources[id] as { Condition?: string }).Condition, id).toBe('SecurityAlarmsEnabled')
    }
  })

  it('with alarmTopicArn, count replayed refresh tokens and failed logins from the log lines the functions write, and notify the topic', () => {
    expect(on.conditions['SecurityAlarmsEnabled']).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [TOPIC, ''] }] })
    const reuse = on.resources['RefreshTokenReuseMetricFilter']?.Properties
    const failed = on.resources['FailedLoginMetricFilter']?.Properties
    expect(reuse?.['LogGroupName']).toEqual({ Ref: 'RefreshLogGroup' })
    expect(failed?.['LogGroupName']).toEqual({ Ref: 'LoginLogGroup' })
    // The lines lib/auth writes (tests/integration/reliability/log-hygiene.test.ts checks their fields).
    const replayed = { event: 'auth.refresh', outcome: 'failure', reason: 'refresh_token_reused' }
    const refusedRequest = { status: 401, code: 'REFRESH_TOKEN_REUSED', reason: 'refresh_token_reused' }
    expect(matches(reuse?.['FilterPattern'], replayed)).toBe(true)
    expect(matches(reuse?.['FilterPattern'], refusedRequest)).toBe(false) // the same replay's request line: counted once
    expect(matches(failed?.['FilterPattern'], { event: 'auth.login', outcome: 'failure', reason: 'invalid_credentials' })).toBe(true)
    expect(matches(failed?.['FilterPattern'], { event: 'auth.login', outcome: 'failure', reason: 'throttled' })).toBe(true)
    expect(matches(failed?.['FilterPattern'], { event: 'auth.login', outcome: 'success' })).toBe(false)
    expect(on.resources['RefreshTokenReuseAlarm']?.Properties).toMatchObject({
      MetricName: 'RefreshTokenReuse',
      Namespace: 'AttuneAuth/prod',
      Threshold: 1,
      AlarmActions: [TOPIC],
    })
    expect(on.resources['FailedLoginSpikeAlarm']?.Properties).toMatchObject({
      MetricName: 'FailedLogins',
      Threshold: 100,
      Period: 300,
      AlarmActions: [TOPIC],
    })
  })
})
