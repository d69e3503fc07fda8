/**
 * infra/local/offline-gateway.cjs renders the answer to a request no route takes from serverless.yml's Gateway
 * Responses, as API Gateway does (tests/e2e/local-server-gateway.test.ts checks what npm start answers).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

interface Rendered {
  status: number
  headers: Record<string, string>
  body: string
}
const { missingRouteResponse } = createRequire(import.meta.url)('../../../infra/local/offline-gateway.cjs') as {
  missingRouteResponse: (serverlessYml: string) => Rendered
}

const withResponses = (responses: string): string => `service: x\nresources:\n  Resources:\n${responses}`

describe('the answer of npm start to a request no route takes', () => {
  it("is serverless.yml's MISSING_AUTHENTICATION_TOKEN Gateway Response", () => {
    expect(missingRouteResponse(readFileSync(new URL('../../../serverless.yml', import.meta.url), 'utf8'))).toEqual({
      status: 404,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
      body: '{"error":"Not found","code":"NOT_FOUND"}',
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
    expect(missingRouteResponse(yml)).toEqual({
      status: 403,
      headers: { 'Cache-Control': 'no-store', 'Content-Type': 'application/json' },
      body: '{"error":"Missing Authentication Token","code":"BAD_REQUEST","id":""}',
    })
  })

  it('is API Gateway’s own default when serverless.yml shapes neither', () => {
    expect(missingRouteResponse('service: x\n')).toEqual({
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
    expect(() => missingRouteResponse(yml)).toThrow(/not a header with a quoted literal value/)
  })
})
