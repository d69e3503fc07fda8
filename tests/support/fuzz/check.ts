/**
 * The property every answer to a generated request must have, and the tally of answers for a fuzz run's summary.
 */
import type { Reason } from '@attune-auth/client'
import { ERROR_STATUS, REASONS } from '@attune-auth/client'
import { expectMatchesOpenApi } from '../openapi.js'
import type { Answer, Route } from './send.js'

/** Anything in a body that would give away how the service is built. */
const INTERNALS =
  /\n\s*at |\bat [\w.<>]+ \(|node:internal|node_modules|file:\/\/|\/work\/|\.(?:ts|js|mjs|cjs):\d+|\b(?:Type|Range|Syntax|Reference)Error\b|Error:|\bSQL\b|postgres|PostgresError|argon2|\$argon2id\$|hash-wasm|valibot|middy|undefined|\[object Object\]/i

const VALID_CODES = new Set(Object.keys(ERROR_STATUS))

/** The error message without the names it repeats from the request (`roles: no role <name>, <name>`): the client's own words. */
function withoutEchoes(error: string, echoes: readonly string[]): string {
  let own = error
  for (const word of new Set(echoes)) {
    if (word.length > 0) own = own.replace(new RegExp(`(?<= )${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=,|$)(?:, )?`, 'g'), '')
  }
  return own
}

/**
 * The property every answer must have: a 200 (201, 202) `{data}` or a 4xx `{error, code}` with the code's own status,
 * JSON with our content type, matching docs/openapi.yaml, revealing nothing internal. Throws otherwise.
 * `echoes`: names the request sent that an error may repeat (not counted in its length, not taken for internals).
 */
export function checkAnswer(route: Route, answer: Answer, echoes: readonly string[] = []): { status: number; body: unknown } {
  const describe = (): string => `${route.method} ${route.path} answered ${answer.status}: ${answer.raw.slice(0, 500)}`
  const success = answer.status === 200 || answer.status === 201 || answer.status === 202
  if (!success && !(answer.status >= 400 && answer.status < 500)) throw new Error(`expected 200, 201, 202 or a 4xx; ${describe()}`)
  const contentType = String(answer.headers['Content-Type'] ?? '')
  if (!/^application\/json\b/.test(contentType))
    throw new Error(`expected a JSON content type, got ${JSON.stringify(contentType)}; ${describe()}`)
  let body: unknown
  try {
    body = JSON.parse(answer.raw)
  } catch {
    throw new Error(`the body is not JSON; ${describe()}`)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error(`the body is not a JSON object; ${describe()}`)
  const keys = Object.keys(body).sort().join(',')
  if (success) {
    if (keys !== 'data') throw new Error(`a ${answer.status} must be exactly {data}; ${describe()}`)
  } else {
    const { error, code, reason } = body as { error?: unknown; code?: unknown; reason?: unknown }
    if (keys !== 'code,error,reason' || typeof error !== 'string' || typeof code !== 'string' || typeof reason !== 'string')
      throw new Error(`an error must be exactly {error, code, reason}; ${describe()}`)
    if (!VALID_CODES.has(code) || ERROR_STATUS[code as keyof typeof ERROR_STATUS] !== answer.status)
      throw new Error(`code ${code} does not go with status ${answer.status}; ${describe()}`)
    if (!(reason in REASONS) || REASONS[reason as Reason].code !== code)
      throw new Error(`reason ${reason} does not go with code ${code}; ${describe()}`)
    const own = withoutEchoes(error, echoes)
    if (error.length === 0 || own.length > 200) throw new Error(`the error message is empty or long; ${describe()}`)
    if (INTERNALS.test(own === error ? answer.raw : JSON.stringify({ error: own, code, reason })))
      throw new Error(`the body reveals internals; ${describe()}`)
  }
  expectMatchesOpenApi(route.method, route.documentedPath, answer.status, body)
  return { status: answer.status, body }
}

/** Parses a body as the handler received it, as lib/http/route.ts does (to read back a field of a request that succeeded). */
export function receivedJson(sent: Answer['sent']): Record<string, unknown> {
  const text = sent.isBase64Encoded ? new TextDecoder().decode(Buffer.from(sent.body ?? '', 'base64')) : (sent.body ?? '')
  return JSON.parse(text) as Record<string, unknown>
}

/** Counts answers by status, for the fuzz run's summary. */
export class StatusTally {
  readonly counts = new Map<string, number>()
  /** Errors by status and reason (`401 mfa_code_invalid`): which of a handler's refusals the cases reached. */
  readonly reasons = new Map<string, number>()
  add(status: number, body: unknown): void {
    const code = typeof body === 'object' && body !== null && 'code' in body ? String((body as { code: unknown }).code) : 'data'
    const key = `${status} ${code}`
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1)
    if (typeof body === 'object' && body !== null && 'reason' in body) {
      const reason = `${status} ${String((body as { reason: unknown }).reason)}`
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1)
    }
  }
  /** How many errors had this reason. */
  countReason(reason: string): number {
    let n = 0
    for (const [key, c] of this.reasons) if (key.endsWith(` ${reason}`)) n += c
    return n
  }
  reasonsToString(): string {
    return [...this.reasons]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, c]) => `${k}: ${c}`)
      .join(', ')
  }
  get total(): number {
    let n = 0
    for (const c of this.counts.values()) n += c
    return n
  }
  count(status: number): number {
    let n = 0
    for (const [key, c] of this.counts) if (key.startsWith(`${status} `)) n += c
    return n
  }
  toString(): string {
    return [...this.counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, c]) => `${k}: ${c}`)
      .join(', ')
  }
}
