/** Where a request came from, as API Gateway saw it: recorded on the sessions it opens, its audit events and its log lines. */
import type { APIGatewayProxyEvent } from 'aws-lambda'
import type { Origin } from '../audit/events.js'
import { headerValue } from './headers.js'

/** API Gateway's request id, the client's address and its User-Agent. */
export type ClientInfo = Origin

const MAX_USER_AGENT = 512

/** Characters a PostgreSQL text column refuses (NUL) or mangles (lone surrogates), with the other control characters. */
const UNSTORABLE = /[\p{Cc}\p{Cs}]/gu

/** A client-supplied value fit to store: control characters and lone surrogates dropped, bounded without splitting a pair. */
function storable(value: string | undefined, max: number): string | null {
  if (!value) return null
  let text = value.length > max * 4 ? value.slice(0, max * 4) : value
  text = text.replace(UNSTORABLE, '')
  if (text.length > max) text = text.slice(0, /[\uD800-\uDBFF]/.test(text.charAt(max - 1)) ? max - 1 : max)
  return text.length > 0 ? text : null
}

/** The request's id and the client's address as API Gateway saw them, and its User-Agent (cleaned and bounded: they are stored). */
export function clientInfo(event: APIGatewayProxyEvent): ClientInfo {
  const sourceIp = event.requestContext?.identity?.sourceIp
  const requestId = event.requestContext?.requestId
  return {
    requestId: typeof requestId === 'string' ? storable(requestId, 128) : null,
    userAgent: storable(headerValue(event.headers, 'user-agent'), MAX_USER_AGENT),
    sourceIp: typeof sourceIp === 'string' ? storable(sourceIp, 64) : null,
  }
}
