/**
 * `osls package --stage dev` of the orders service, offline (tests/support/osls-package.ts). Its only AWS call, SSM GetParameter for the
 * authorizer's ARN (`${ssm:/attune-auth/<stage>/authorizer-arn}`), is answered by a stand-in SSM on
 * localhost (AWS_ENDPOINT_URL_SSM, with dummy credentials); every other AWS endpoint points at a closed
 * port, so nothing reaches AWS. What it proves: the CloudFormation template puts our authorizer's ARN on
 * both routes, leaves the invoke permission to our stack, and each zip is one small ESM bundle that
 * answers like the source.
 */
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { BEARER_CHALLENGE } from '@attune-auth/client'
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { restEvent } from '../../tests/support/events.js'
import type { PackagedStage } from '../../tests/support/osls-package.js'
import { packageStage } from '../../tests/support/osls-package.js'
import { zipEntries, zipEntry } from '../../tests/support/zip.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const STAGE = 'dev'
const AUTHORIZER_ARN = `arn:aws:lambda:us-east-1:123456789012:function:attune-auth-${STAGE}-authorizer`

/** The SSM parameter our stack writes, for this stage. */
const parameterName = (
  parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'error' }) as {
    resources: { Resources: { AuthorizerArnParameter: { Properties: { Name: string } } } }
  }
).resources.Resources.AuthorizerArnParameter.Properties.Name.replace('${sls:stage}', STAGE)

interface Resource {
  Type: string
  Properties: Record<string, any>
}

let packaged: PackagedStage
let out: string
let resources: Record<string, Resource>
let asked: string[]

/**
 * Packages a copy laid out as in the repository (osls deletes `.serverless/` and serverless-esbuild its work
 * folder in the service folder): the service alone. Its dependency @attune-auth/client comes, as any other
 * package, from node_modules (the repository's, linked in: there a workspace link to packages/auth-client).
 */
beforeAll(async () => {
  packaged = await packageStage({
    root: ROOT,
    files: ['serverless.yml', 'package.json', 'functions'].map((entry) => `examples/orders-service/${entry}`),
    service: 'examples/orders-service',
    stage: STAGE,
    parameters: { [parameterName]: AUTHORIZER_ARN },
  })
  ;({ out, asked } = packaged)
  resources = packaged.resources as Record<string, Resource>
}, 90_000)

afterAll(async () => {
  await packaged?.cleanup()
})

const ofType = (type: string): [string, Resource][] => Object.entries(resources).filter(([, r]) => r.Type === type)

/** `arn:...:lambda:path/2015-03-31/functions/<arn>/invocations`, as osls joins it: the function ARN in it. */
const invokedArn = (uri: { 'Fn::Join': [string, unknown[]] }): unknown => uri['Fn::Join'][1].at(-2)

describe('osls package of the orders service', () => {
  it('asks SSM for nothing but the authorizer ARN parameter our stack writes', () => {
    expect(parameterName).toBe(`/attune-auth/${STAGE}/authorizer-arn`)
    expect(new Set(asked)).toEqual(new Set([parameterName]))
  })

  it('puts our authorizer, by its ARN, on the REST API route: a REQUEST authorizer on the Authorization header, no cache', () => {
    const [[id, authorizer]] = ofType('AWS::ApiGateway::Authorizer') as [[string, Resource]]
    expect(authorizer.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
    })
    expect(invokedArn(authorizer.Properties['AuthorizerUri'])).toBe(AUTHORIZER_ARN)
    const methods = ofType('AWS::ApiGateway::Method').map(([, m]) => m.Properties)
    expect(methods).toEqual([expect.objectContaining({ HttpMethod: 'GET', AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: id } })])
  })

  it('puts our authorizer, by its ARN, on the HTTP API route: payload 2.0 with simple responses, no cache', () => {
    const [[id, authorizer]] = ofType('AWS::ApiGatewayV2::Authorizer') as [[string, Resource]]
    expect(authorizer.Properties).toMatchObject({
      AuthorizerType: 'REQUEST',
      EnableSimpleResponses: true,
      AuthorizerPayloadFormatVersion: '2.0',
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 0,
    })
    expect(invokedArn(authorizer.Properties['AuthorizerUri'])).toBe(AUTHORIZER_ARN)
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties)
    expect(routes).toEqual([
      expect.objectContaining({ RouteKey: 'GET /v2/orders', AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: id } }),
    ])
  })

  it("adds no permission on our authorizer function: our stack's own permission covers every API of the account", () => {
    const targets = ofType('AWS::Lambda::Permission').map(([, p]) => JSON.stringify(p.Properties['FunctionName']))
    expect(targets.length).toBe(2)
    for (const target of targets) expect(target).not.toContain(AUTHORIZER_ARN)
  })

  it('bundles each handler into one small ESM file that answers like the source', async () => {
    for (const [fn, exported] of [
      ['restOrders', 'restHandler'],
      ['httpOrders', 'httpHandler'],
    ] as const) {
      const zip = readFileSync(join(out, `${fn}.zip`))
      expect(zipEntries(zip), fn).toEqual(['functions/orders.mjs'])
      const bundle = zipEntry(zip, 'functions/orders.mjs')
      expect(bundle.byteLength, fn).toBeLessThan(8 * 1024)
      const file = join(out, `${fn}.mjs`)
      await writeFile(file, bundle)
      const mod = (await import(pathToFileURL(file).href)) as Record<
        string,
        (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>
      >
      expect(typeof mod[exported], fn).toBe('function')
      const rest = mod['restHandler']
      if (!rest) throw new Error(`${fn}: no restHandler in the bundle`)
      const allowed = await rest(
        restEvent({ method: 'GET', path: '/orders', authorizer: { principalId: '7', identityId: '7', login: 'alice', sessionId: 's-1' } }),
      )
      expect(allowed.statusCode, fn).toBe(200)
      expect(JSON.parse(allowed.body).data.owner, fn).toEqual({ identityId: 7, login: 'alice' })
      const refused = await rest(restEvent({ method: 'GET', path: '/orders' }))
      expect(refused, fn).toMatchObject({ statusCode: 401, headers: { 'WWW-Authenticate': BEARER_CHALLENGE } })
    }
  })
})
