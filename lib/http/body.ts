/**
 * The JSON request body: what @middy/http-json-body-parser does not check, around it, and the route's schema
 * after it. Before the parser: a body is present (or, for an optional body, read as `{}`), at most
 * MAX_BODY_BYTES, sent as JSON (any `+json` type, any letter case: RFC 9110 media types are
 * case-insensitive, the parser's own check is not, so it is turned off) and UTF-8 when base64-encoded (the
 * parser would decode invalid bytes to U+FFFD). After it, its malformed-JSON 415 becomes our 400.
 */
import { ApiError, invalidField } from '@attune-auth/client/errors'
import type middy from '@middy/core'
import httpJsonBodyParser from '@middy/http-json-body-parser'
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda'
import * as v from 'valibot'
import { headerValue } from './headers.js'

export const MAX_BODY_BYTES = 16 * 1024

export type AnySchema = v.GenericSchema<unknown, unknown>

const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i

/** `disableContentTypeCheck` is in @middy/http-json-body-parser 6.4.5's code but missing from its types. */
const PARSER_OPTIONS = { disableContentTypeCheck: true } as Parameters<typeof httpJsonBodyParser>[0]

/** The parser's two refusals (both 415 in 6.4.5): only malformed JSON is the client's 400. */
const MALFORMED_JSON = 'Invalid or malformed JSON was provided'

type Middleware = middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>

/** The middlewares that turn a route's body into parsed JSON: our limits, then the parser. */
export function jsonBody(optional: boolean): Middleware[] {
  return [jsonBodyLimits(optional), httpJsonBodyParser(PARSER_OPTIONS) as Middleware]
}

function jsonBodyLimits(optional: boolean): Middleware {
  return {
    before: ({ event }) => {
      const raw = event.body
      if (raw === null || raw === undefined || raw.length === 0) {
        if (!optional) throw new ApiError('body_missing')
        event.body = '{}'
        event.isBase64Encoded = false
        return
      }
      const size = event.isBase64Encoded ? Math.floor((raw.length * 3) / 4) : Buffer.byteLength(raw, 'utf8')
      if (size > MAX_BODY_BYTES) throw new ApiError('body_too_large', { message: `Request body must be at most ${MAX_BODY_BYTES} bytes` })
      const contentType = headerValue(event.headers, 'content-type')
      if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) throw new ApiError('unsupported_media_type')
      if (event.isBase64Encoded) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(raw, 'base64'))
        } catch {
          throw new ApiError('malformed_body', { message: 'Request body is not valid UTF-8' })
        }
      }
    },
    onError: (request) => {
      const error = request.error as { message?: unknown; cause?: { package?: unknown } } | null
      if (error?.cause?.package !== '@middy/http-json-body-parser') return
      request.error = new ApiError(error.message === MALFORMED_JSON ? 'malformed_body' : 'unsupported_media_type')
    },
  }
}

/** The query string's parameters, checked against the route's schema; a 400 names the first problem found. */
export function validateQuery<S extends AnySchema>(schema: S, parameters: Record<string, string | undefined> | null): v.InferOutput<S> {
  const result = v.safeParse(schema, parameters ?? {})
  if (!result.success) throw invalidField(describeIssue(result.issues[0]))
  return result.output
}

/** The parsed body, checked against the route's schema; a 400 names the first problem found. */
export function validateBody<S extends AnySchema>(schema: S, json: unknown): v.InferOutput<S> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ApiError('malformed_body', { message: 'Request body must be a JSON object' })
  }
  const result = v.safeParse(schema, json)
  if (!result.success) throw invalidField(describeIssue(result.issues[0]))
  return result.output
}

function describeIssue(issue: v.BaseIssue<unknown> | undefined): string {
  if (!issue) return 'Invalid request body'
  const path = v.getDotPath(issue)
  if (path && issue.kind === 'schema' && issue.input === undefined) return `${path} is required`
  // Our schemas write messages that name the field; valibot's own get the path prefixed.
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message
}
