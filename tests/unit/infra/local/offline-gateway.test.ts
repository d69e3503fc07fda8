/**
 * Under npm start, what API Gateway answers itself (a refused bearer token, a request no route takes) is rendered
 * from serverless.yml's Gateway Responses by infra/local/offline-authorizer.ts, as API Gateway does
 * (tests/e2e/local-server-gateway.test.ts checks what npm start answers over HTTP).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { GatewayResponseType } from '../../../../infra/local/offline-authorizer.js'
import { renderGatewayResponse } from '../../../../infra/local/offline-authorizer.js'

const SERVERLESS_YML = readFileSync(new URL('../../../../serverless.yml', import.meta.url), 'utf8')
const withResponses = (responses: string): string => `service: x\nresources:\n  Resources:\n${responses}`

describe("serverless.yml's Gateway Responses under npm start", () => {
  const resources = parse(SERVERLESS_YML, { logLevel: 'error' }).resources.Resources as Record<string, { Type: string; Properties: any }>
  const deployed = (type: string) => Object.values(resources).find((r) => r.Properties?.ResponseType === type)?.Properties

  it.each<GatewayResponseType>(['UNAUTHORIZED', 'ACCESS_DENIED', 'AUTHORIZER_FAILURE', 'MISSING_AUTHENTICATION_TOKEN'])(
    '%s has the status and headers of serverless.yml, and its template filled in',
    (type) => {
      const context = { error: 'Session has ended', code: 'UNAUTHORIZED', reason: 'session_ended' }
      const rendered = renderGatewayResponse(type, context)
      const properties = deployed(type)
      expect(rendered.status).toBe(Number(properties.StatusCode))
      const headers = Object.entries(properties.ResponseParameters as Record<string, string>).map(([name, value]) => [
        name.replace('gatewayresponse.header.', ''),
        value.slice(1, -1),
      ])
      expect(rendered.headers).toEqual(Object.fromEntries(headers))
      const template = properties.ResponseTemplates['application/json'] as string
      if (template.includes('$context.authorizer')) expect(JSON.parse(rendered.body)).toMatchObject(context)
      else expect(rendered.body).toBe(template)
    },
  )

  it("puts the authorizer's context values in as they are, and nothing for a key it lacks", () => {
    const yml = withResponses(`    Denied:
      Type: AWS::ApiGateway::GatewayResponse
      Properties:
        ResponseType: ACCESS_DENIED
        StatusCode: "401"
        ResponseTemplates:
          application/json: '{"error":"$context.authorizer.error","n":$context.authorizer.n,"x":"$context.authorizer.x"}'
`)
    expect(renderGatewayResponse('ACCESS_DENIED', { error: 'a "b"', n: 1 }, yml)).toEqual({
      allow: false,
      status: 401,
      headers: { 'Content-Type': 'application/json' },
      body: '{"error":"a "b"","n":1,"x":""}',
    })
  })

  it('falls back to DEFAULT_4XX, with the type’s own status and message, as API Gateway does', () => {
    const yml = withResponses(`    Default4xx:
      Type: AWS::ApiGateway::GatewayResponse
      Properties:
        RestApiId: !Ref ApiGatewayRestApi
        ResponseType: DEFAULT_4XX
        ResponseParameters:
          gatewayresponse.header.Cache-Control: "'no-store'"
        ResponseTemplates:
          application/json: '{"error":$context.error.messageString,"code":"BAD_REQUEST","id":"$context.requestId"}'
`)
    expect(renderGatewayResponse('MISSING_AUTHENTICATION_TOKEN', {}, yml)).toEqual({
      allow: false,
      status: 403,
      headers: { 'Cache-Control': 'no-store', 'Content-Type': 'application/json' },
      body: '{"error":"Missing Authentication Token","code":"BAD_REQUEST","id":""}',
    })
    expect(renderGatewayResponse('AUTHORIZER_FAILURE', {}, yml).status).toBe(500) // a 5XX type: not DEFAULT_4XX's
  })

  it('is API Gateway’s own default when serverless.yml shapes neither', () => {
    expect(renderGatewayResponse('MISSING_AUTHENTICATION_TOKEN', {}, 'service: x\n')).toEqual({
      allow: false,
      status: 403,
      headers: { 'Content-Type': 'application/json' },
      body: '{"message":"Missing Authentication Token"}',
    })
  })

  it('refuses a header it cannot render rather than answer something else', () => {
    const yml = withResponses(`    Missing:
      Type: AWS::ApiGateway::GatewayResponse
      Properties:
        ResponseType: MISSING_AUTHENTICATION_TOKEN
        StatusCode: "404"
        ResponseParameters:
          gatewayresponse.header.Access-Control-Allow-Origin: method.request.header.origin
`)
    expect(() => renderGatewayResponse('MISSING_AUTHENTICATION_TOKEN', {}, yml)).toThrow(/not a header with a quoted literal value/)
  })
})
