import { describe, expect, it } from 'vitest'
import { auditTable, parseAuditArguments } from '../../../infra/audit.js'
import type { AuditEvent } from '../../../lib/db/audit.js'

const EVENT: AuditEvent = {
  id: 7,
  occurredAt: new Date('2026-12-01T10:00:00.123Z'),
  type: 'session.ended',
  outcome: 'success',
  identityId: 42,
  actorType: 'user',
  actorId: '42',
  sessionId: '0b5e6c1e-3f0a-4c47-9a53-5d1f2b7c9e10',
  requestId: 'c2be2600-5af4-4d1a-87ef-8cc594de8da5',
  sourceIp: '203.0.113.7',
  userAgent: 'curl/8.5.0',
  data: { reason: 'logout' },
}

describe('npm run audit: arguments', () => {
  it('reads --identity, --since and --type, bare dates as midnight UTC, 100 events by default', () => {
    expect(parseAuditArguments(['--identity', '42', '--since', '2026-12-01', '--type', 'session.ended'])).toEqual({
      identityId: 42,
      type: 'session.ended',
      since: new Date('2026-12-01T00:00:00Z'),
      until: undefined,
      limit: 100,
    })
    expect(parseAuditArguments(['--until', '2026-12-01T10:30:00Z', '--limit', '5'])).toMatchObject({
      until: new Date('2026-12-01T10:30:00Z'),
      limit: 5,
    })
  })

  it.each([
    [['--identity', 'alice'], '--identity must be an identity id'],
    [['--since', 'yesterday'], '--since must be a date'],
    [['--since', '2026-13-45'], '--since must be a date'],
    [['--type', 'password.stolen'], '--type must be one of identity.registered'],
    [['--limit', '0'], '--limit must be a whole number'],
    [['--idenity', '42'], "Unknown option '--idenity'"],
  ])('refuses %j, naming the problem', (argv, message) => {
    expect(() => parseAuditArguments(argv)).toThrow(message)
  })
})

describe('npm run audit: the table', () => {
  it('prints a header, a rule and one aligned row per event, times in UTC', () => {
    const lines = auditTable([EVENT, { ...EVENT, id: 8, actorType: 'system', actorId: null, sourceIp: null, data: {} }]).split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toMatch(
      /^id {2}occurred_at \(UTC\) +type +outcome +identity +actor +session +source_ip +user_agent +request_id +data$/,
    )
    expect(lines[1]).toMatch(/^-+( {2}-+)+$/)
    expect(lines[2]).toContain('2026-12-01 10:00:00.123  session.ended  success  42')
    expect(lines[2]).toContain('user:42')
    expect(lines[2]).toContain('{"reason":"logout"}')
    expect(lines[3]).toContain(' system ')
    // Columns line up: the type column starts at the same place on the header and the rows.
    expect(lines[2]?.indexOf('session.ended')).toBe(lines[0]?.indexOf('type'))
    expect(lines[3]?.indexOf('session.ended')).toBe(lines[0]?.indexOf('type'))
  })

  it('neutralises control characters a client put into a stored user agent, and shortens long values', () => {
    const table = auditTable([{ ...EVENT, userAgent: `evil\u001b[2J\u001b[31m${'x'.repeat(600)}` }])
    expect(table).not.toContain('\u001b')
    expect(table).toContain('evil?[2J?[31m')
    expect(table).toContain('…')
  })

  it('says so when there is nothing to show', () => {
    expect(auditTable([])).toBe('(no events)')
  })
})
