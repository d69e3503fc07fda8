/**
 * The conformance suite's HTTP client and assertions (tests/conformance/checks.ts, run by infra/conformance.ts):
 * plain `fetch`, no test framework, so it runs against any deployment from anywhere. A failed assertion throws a
 * `CheckFailure` that says what was expected and what came back, with every token and password redacted: the
 * output of a run may be pasted into an issue or kept in a CI log.
 */

import { isDeepStrictEqual } from 'node:util'
import type { Reason } from '@attune-auth/client'
import { BEARER_CHALLENGE, REASONS } from '@attune-auth/client'

/** What a request got back. */
export interface Answer {
  /** `METHOD /path` (or the absolute URL), for messages. */
  request: string
  status: number
  headers: Headers
  text: string
  /** The body parsed as JSON; `undefined` when it is not JSON. */
  json: unknown
}

export interface RequestOptions {
  /** Sent as JSON, with `Content-Type: application/json`. */
  body?: unknown
  /** Sent as is, with `contentType` (default `application/json`). */
  raw?: string
  contentType?: string
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string
  /** An absolute URL to call instead of the base URL and the path. */
  url?: string
}

/** A check that did not pass: its message, and what was expected and what came back (both redacted). */
export class CheckFailure extends Error {
  readonly expected: string | undefined
  readonly actual: string | undefined

  constructor(message: string, expected?: string, actual?: string) {
    super(message)
    this.name = 'CheckFailure'
    this.expected = expected
    this.actual = actual
  }
}

/** A check that does not apply to this run (no `--protected-url`, nothing to clean up, ...). */
export class CheckSkipped extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'CheckSkipped'
  }
}

/** Three base64url segments: anything that looks like a JWT is never printed. */
const JWT_LIKE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g
/** Fields whose values are never printed, whatever they hold. */
const SECRET_FIELD = /token|password|secret/i
const MAX_SHOWN = 600

export class ConformanceClient {
  readonly baseUrl: string
  readonly timeoutMs: number
  /** Strings never printed (the run's passwords); tokens are redacted by their shape and their fields. */
  private readonly secrets = new Set<string>()

  constructor(baseUrl: string, timeoutMs: number) {
    this.baseUrl = baseUrl.replace(/\/+$/, '')
    this.timeoutMs = timeoutMs
  }

  /** `value` is a secret of this run: redacted wherever it would be printed. */
  secret(value: string): string {
    this.secrets.add(value)
    return value
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const url = options.url ?? `${this.baseUrl}${path}`
    const label = options.url ? `${method} ${options.url}` : `${method} ${path}`
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'attune-auth-conformance' }
    let body: string | undefined
    if (options.raw !== undefined) {
      body = options.raw
      headers['Content-Type'] = options.contentType ?? 'application/json'
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body)
      headers['Content-Type'] = options.contentType ?? 'application/json'
    } else if (options.contentType !== undefined) headers['Content-Type'] = options.contentType
    if (options.token !== undefined) headers['Authorization'] = `Bearer ${options.token}`
    let response: Response
    let text: string
    try {
      response = await fetch(url, {
        method,
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        ...(body === undefined ? {} : { body }),
      })
      text = await response.text()
    } catch (error) {
      const cause =
        error instanceof Error ? `${error.message}${error.cause instanceof Error ? `: ${error.cause.message}` : ''}` : String(error)
      throw new CheckFailure(`${label}: no answer`, 'an HTTP answer', this.redact(cause))
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    return { request: label, status: response.status, headers: response.headers, text, json }
  }

  /** `text` with every secret of this run and anything shaped like a token replaced by `<redacted>`. */
  redact(text: string): string {
    let out = text
    for (const secret of this.secrets) if (secret.length > 0) out = out.split(secret).join('<redacted>')
    return out.replace(JWT_LIKE, '<redacted>')
  }

  /** An answer as printed: status, body (secret fields redacted, shortened) and the named headers. */
  show(answer: Answer, headers: readonly string[] = []): string {
    const body = answer.json === undefined ? JSON.stringify(answer.text) : JSON.stringify(redactFields(answer.json))
    const shown = this.redact(body.length > MAX_SHOWN ? `${body.slice(0, MAX_SHOWN)}… (${body.length} characters)` : body)
    const named = headers.map((name) => `${name}: ${answer.headers.get(name) ?? '(none)'}`)
    return [`HTTP ${answer.status} ${shown}`, ...named].join(', ')
  }
}

function redactFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactFields)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      SECRET_FIELD.test(key) && key !== 'token_type' && typeof field === 'string' ? '<redacted>' : redactFields(field),
    ]),
  )
}

/** The documented body of a refusal for `reason`. */
export const refusalBody = (reason: Reason, message?: string) => ({
  error: message ?? REASONS[reason].message,
  code: REASONS[reason].code,
  reason,
})

export interface RefusalExpectation {
  status: number
  reason: Reason
  /** The exact message when it is not the reason's default, or a pattern it must match. */
  message?: string | RegExp
  /** A bearer-token refusal: `WWW-Authenticate: Bearer realm="attune-auth"` too. */
  challenge?: boolean
}

/**
 * `answer` is the refusal: its status, `{error, code, reason}` and nothing else, as JSON, not cacheable, and with
 * the Bearer challenge when it refuses a token.
 */
export function expectRefusal(client: ConformanceClient, answer: Answer, expected: RefusalExpectation): void {
  const headers = ['Content-Type', 'Cache-Control', ...(expected.challenge ? ['WWW-Authenticate'] : [])]
  const exactMessage = typeof expected.message === 'string' ? expected.message : undefined
  const body = refusalBody(expected.reason, exactMessage)
  const pattern = expected.message instanceof RegExp ? expected.message : undefined
  const describeExpected = [
    `HTTP ${expected.status} ${pattern ? JSON.stringify({ ...body, error: `<matching ${pattern}>` }) : JSON.stringify(body)}`,
    'Content-Type: application/json',
    'Cache-Control: no-store',
    ...(expected.challenge ? [`WWW-Authenticate: ${BEARER_CHALLENGE}`] : []),
  ].join(', ')
  const json = answer.json as Record<string, unknown> | undefined
  const bodyMatches = pattern
    ? typeof json === 'object' &&
      json !== null &&
      isDeepStrictEqual(Object.keys(json).sort(), ['code', 'error', 'reason']) &&
      typeof json['error'] === 'string' &&
      pattern.test(json['error']) &&
      json['code'] === body.code &&
      json['reason'] === body.reason
    : isDeepStrictEqual(json, body)
  const ok =
    answer.status === expected.status &&
    bodyMatches &&
    /^application\/json\b/i.test(answer.headers.get('content-type') ?? '') &&
    /\bno-store\b/i.test(answer.headers.get('cache-control') ?? '') &&
    (!expected.challenge || answer.headers.get('www-authenticate') === BEARER_CHALLENGE)
  if (!ok) throw new CheckFailure(`${answer.request}: not the documented refusal`, describeExpected, client.show(answer, headers))
}

/** A token pair as the API answers it. */
export interface TokenPair {
  access_token: string
  refresh_token: string
  token_type: 'Bearer'
  expires_in: number
}

const TOKEN_PAIR_SHAPE = '{"data":{"access_token":<string>,"refresh_token":<string>,"token_type":"Bearer","expires_in":<integer ≥ 1>}}'

/** The token pair in `data` (among other fields, as change-password answers it), or undefined. */
export function tokenPairIn(data: unknown): TokenPair | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const d = data as Record<string, unknown>
  const ok =
    typeof d['access_token'] === 'string' &&
    d['access_token'].length > 0 &&
    typeof d['refresh_token'] === 'string' &&
    d['refresh_token'].length > 0 &&
    d['token_type'] === 'Bearer' &&
    Number.isInteger(d['expires_in']) &&
    (d['expires_in'] as number) >= 1
  return ok ? (d as unknown as TokenPair) : undefined
}

/** `answer` is `200 {"data": <token pair>}` and nothing else, JSON, not cacheable: the pair. */
export function expectTokenPair(client: ConformanceClient, answer: Answer): TokenPair {
  const json = answer.json as { data?: unknown } | undefined
  const data = typeof json === 'object' && json !== null && isDeepStrictEqual(Object.keys(json), ['data']) ? json.data : undefined
  const pair = tokenPairIn(data)
  const exact =
    pair !== undefined &&
    isDeepStrictEqual(Object.keys(data as object).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type'])
  if (
    answer.status !== 200 ||
    !pair ||
    !exact ||
    !/^application\/json\b/i.test(answer.headers.get('content-type') ?? '') ||
    !/\bno-store\b/i.test(answer.headers.get('cache-control') ?? '')
  ) {
    throw new CheckFailure(
      `${answer.request}: not a token pair`,
      `HTTP 200 ${TOKEN_PAIR_SHAPE}, Content-Type: application/json, Cache-Control: no-store`,
      client.show(answer, ['Content-Type', 'Cache-Control']),
    )
  }
  return { access_token: pair.access_token, refresh_token: pair.refresh_token, token_type: pair.token_type, expires_in: pair.expires_in }
}

/** `answer` has this status; else a failure showing it. */
export function expectStatus(client: ConformanceClient, answer: Answer, status: number, what: string): void {
  if (answer.status !== status) throw new CheckFailure(`${answer.request}: ${what}`, `HTTP ${status}`, client.show(answer))
}

/** `condition` holds; else a failure with what was expected and what came back. */
export function ensure(condition: boolean, message: string, expected: string, actual: string): asserts condition {
  if (!condition) throw new CheckFailure(message, expected, actual)
}
