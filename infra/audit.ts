/**
 * `npm run audit -- --identity 42 --since 2026-12-01 [--until 2026-12-31] [--type session.ended] [--limit 200]`:
 * the operator's view of the audit log (README "Audit log"), newest first, as a table, read from
 * DATABASE_URL (`npm start` prints the local one). It only reads: nothing here can change an event.
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { AUDIT_EVENTS } from '../lib/audit/catalogue.js'
import type { AuditEventType } from '../lib/audit/events.js'
import type { AuditEvent, AuditSearch } from '../lib/db/audit.js'
import { createAuditRepository } from '../lib/db/audit.js'

export const USAGE =
  'usage: npm run audit -- [--identity <id>] [--since <date>] [--until <date>] [--type <event type>] [--limit <n, default 100>]'

const DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/

/** The search the command line asks for, or an Error naming what is wrong with it. */
export function parseAuditArguments(argv: string[]): AuditSearch {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      identity: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      type: { type: 'string' },
      limit: { type: 'string', default: '100' },
    },
  })
  const date = (name: 'since' | 'until'): Date | undefined => {
    const text = values[name]
    if (text === undefined) return undefined
    // A bare date is midnight UTC, as the table prints times.
    const parsed = DATE.test(text) ? new Date(text.length === 10 ? `${text}T00:00:00Z` : text) : new Date(Number.NaN)
    if (Number.isNaN(parsed.getTime())) throw new Error(`--${name} must be a date like 2026-12-01 or 2026-12-01T10:00:00Z`)
    return parsed
  }
  if (values.identity !== undefined && !/^[1-9]\d{0,15}$/.test(values.identity)) throw new Error('--identity must be an identity id')
  if (values.type !== undefined && !(values.type in AUDIT_EVENTS)) {
    throw new Error(`--type must be one of ${Object.keys(AUDIT_EVENTS).join(', ')}`)
  }
  if (!/^[1-9]\d{0,5}$/.test(values.limit)) throw new Error('--limit must be a whole number from 1')
  return {
    identityId: values.identity === undefined ? undefined : Number(values.identity),
    type: values.type as AuditEventType | undefined,
    since: date('since'),
    until: date('until'),
    limit: Number(values.limit),
  }
}

const COLUMNS: ReadonlyArray<[string, (event: AuditEvent) => string]> = [
  ['id', (e) => String(e.id)],
  ['occurred_at (UTC)', (e) => e.occurredAt.toISOString().replace('T', ' ').replace('Z', '')],
  ['type', (e) => e.type],
  ['outcome', (e) => e.outcome],
  ['identity', (e) => (e.identityId === null ? '' : String(e.identityId))],
  ['actor', (e) => (e.actorId === null ? e.actorType : `${e.actorType}:${e.actorId}`)],
  ['session', (e) => e.sessionId ?? ''],
  ['source_ip', (e) => e.sourceIp ?? ''],
  ['user_agent', (e) => e.userAgent ?? ''],
  ['request_id', (e) => e.requestId ?? ''],
  ['data', (e) => (Object.keys(e.data).length === 0 ? '' : JSON.stringify(e.data))],
]

/** Longest a cell is printed (a user agent can be 512 characters): longer ones end with an ellipsis. */
const MAX_CELL = 48

/** Characters that would let a stored value move the terminal's cursor or colour its output. */
const CONTROL = /[\p{Cc}\p{Cf}]/gu

function cell(text: string): string {
  const clean = text.replace(CONTROL, '?')
  return clean.length > MAX_CELL ? `${clean.slice(0, MAX_CELL - 1)}…` : clean
}

/** The events as an aligned text table with a header, or a line saying there are none. */
export function auditTable(events: readonly AuditEvent[]): string {
  if (events.length === 0) return '(no events)'
  const rows = [COLUMNS.map(([name]) => name), ...events.map((event) => COLUMNS.map(([, value]) => cell(value(event))))]
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)))
  const line = (row: string[]) =>
    row
      .map((text, i) => text.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(rows[0] ?? []), line(widths.map((width) => '-'.repeat(width))), ...rows.slice(1).map(line)].join('\n')
}

async function main(argv: string[]): Promise<void> {
  const url = process.env['DATABASE_URL']?.trim()
  if (!url) throw new Error(`DATABASE_URL is required (npm start prints the local one)\n${USAGE}`)
  let search: AuditSearch
  try {
    search = parseAuditArguments(argv)
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`)
  }
  const sql = postgres(url, { max: 1, onnotice: () => {}, connection: { application_name: 'attune-auth-audit' } })
  try {
    const events = await createAuditRepository(sql).search(search)
    console.log(auditTable(events))
    if (events.length === search.limit) console.log(`(the newest ${search.limit}: use --limit or --until for more)`)
  } finally {
    await sql.end()
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
