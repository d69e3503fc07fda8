import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../../../../lib/http/body.js'
import { jsonRoute } from '../../../../lib/http/route.js'
import { invoke, restEvent } from '../../../support/events.js'

const Echo = v.object({ name: v.string('name must be a string') })
const echo = jsonRoute({ body: Echo }, async ({ body }) => ({ hello: body.name }))
const post = (options: Partial<Parameters<typeof restEvent>[0]>) => invoke(echo, restEvent({ method: 'POST', path: '/echo', ...options }))

describe('jsonRoute', () => {
  it('wraps the result in the data envelope with JSON, no-store headers', async () => {
    const res = await post({ body: { name: 'ada' } })
    expect(res).toMatchObject({ status: 200, body: { data: { hello: 'ada' } } })
    expect(res.headers).toMatchObject({
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    })
  })

  it('answers 400 BAD_REQUEST for malformed JSON', async () => {
    const res = await post({ body: '{"name": ' })
    expect(res).toMatchObject({
      status: 400,
      body: { error: 'Request body is not valid JSON', code: 'BAD_REQUEST', reason: 'malformed_body' },
    })
  })

  it('answers 400 for an empty or missing body', async () => {
    expect((await post({ body: '', headers: { 'Content-Type': 'application/json' } })).body).toEqual({
      error: 'Request body is required',
      code: 'BAD_REQUEST',
      reason: 'body_missing',
    })
    expect((await post({ headers: { 'Content-Type': 'application/json' } })).status).toBe(400)
  })

  it('answers 400 for JSON that is not an object', async () => {
    for (const body of ['[]', 'null', '"text"', '42', 'true']) {
      expect((await post({ body })).body).toEqual({
        error: 'Request body must be a JSON object',
        code: 'BAD_REQUEST',
        reason: 'malformed_body',
      })
    }
  })

  it('answers 400 naming the field for a wrong type', async () => {
    expect((await post({ body: { name: 42 } })).body).toEqual({
      error: 'name must be a string',
      code: 'BAD_REQUEST',
      reason: 'invalid_field',
    })
  })

  it('answers 415 for a non-JSON content type, or none', async () => {
    const form = await post({ body: 'name=ada', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } })
    expect(form).toMatchObject({ status: 415, body: { code: 'UNSUPPORTED_MEDIA_TYPE' } })
    const none = await post({ body: '{"name":"ada"}', headers: {} })
    expect(none.status).toBe(415)
  })

  it('accepts a JSON content type with parameters and in any case', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.api+json']) {
      expect((await post({ body: { name: 'ada' }, headers: { 'content-type': type } })).status).toBe(200)
    }
  })

  it(`answers 413 for a body over ${MAX_BODY_BYTES} bytes, before parsing it`, async () => {
    const res = await post({ body: { name: 'x'.repeat(MAX_BODY_BYTES) } })
    expect(res).toMatchObject({ status: 413, body: { code: 'PAYLOAD_TOO_LARGE' } })
  })

  it('decodes a base64-encoded body as API Gateway sends it', async () => {
    const body = Buffer.from(JSON.stringify({ name: 'ada' })).toString('base64')
    expect((await post({ body, isBase64Encoded: true })).body).toEqual({ data: { hello: 'ada' } })
  })

  it('answers 400 for a base64 body that is not UTF-8', async () => {
    const body = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('base64')
    expect((await post({ body, isBase64Encoded: true })).body).toEqual({
      error: 'Request body is not valid UTF-8',
      code: 'BAD_REQUEST',
      reason: 'malformed_body',
    })
  })

  it('answers an opaque 500 for an unexpected error, revealing nothing of it', async () => {
    const failing = jsonRoute({}, async () => {
      throw new Error('connection to 10.0.0.5 failed: password authentication failed for user "admin"')
    })
    const res = await invoke(failing, restEvent({ method: 'GET', path: '/fail' }))
    expect(res).toMatchObject({ status: 500, body: { error: 'Internal server error', code: 'INTERNAL_ERROR', reason: 'internal_error' } })
    expect(JSON.stringify(res)).not.toMatch(/10\.0\.0\.5|password|admin/)
  })

  it('answers 503 SERVICE_UNAVAILABLE when the database cannot be reached', async () => {
    const failing = jsonRoute({}, async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })
    })
    const res = await invoke(failing, restEvent({ method: 'GET', path: '/fail' }))
    expect(res).toMatchObject({
      status: 503,
      body: { error: 'Service temporarily unavailable', code: 'SERVICE_UNAVAILABLE', reason: 'service_unavailable' },
    })
  })

  it('reads the authorizer context before the body: an unauthenticated request is a 401 even with a bad body', async () => {
    const guarded = jsonRoute({ authenticated: true, body: Echo }, async ({ user }) => user)
    const res = await invoke(guarded, restEvent({ method: 'POST', path: '/echo', body: 'not json' }))
    expect(res).toMatchObject({
      status: 401,
      body: { error: 'Missing authentication token', code: 'UNAUTHORIZED', reason: 'token_missing' },
    })
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="attune-auth"')
  })
})
