/**
 * `osls package --stage dev` of the orders service, offline. Its only AWS call, SSM GetParameter for the
 * authorizer's ARN (`${ssm:/attune-auth/<stage>/authorizer-arn}`), is answered by a stand-in SSM on
 * localhost (AWS_ENDPOINT_URL_SSM, with dummy credentials); every other AWS endpoint points at a closed
 * port, so nothing reaches AWS. What it proves: the CloudFormation template puts our authorizer's ARN on
 * both routes, leaves the invoke permission to our stack, and each zip is one small ESM bundle that
 * answers like the source.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { inflateRawSync } from 'node:zlib'
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { BEARER_CHALLENGE } from '../../lib/require-auth.js'
import { restEvent } from '../../tests/support/events.js'
import { zipEntries } from '../../tests/unit/infra/zip.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const SERVICE = fileURLToPath(new URL('.', import.meta.url))
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

let work: string | undefined
let out: string
let resources: Record<string, Resource>
/** The names osls asked the stand-in SSM for. */
const asked: string[] = []
const ssm = createServer((req, res) => {
  let body = ''
  req.on('data', (chunk: Buffer) => (body += chunk.toString()))
  req.on('end', () => {
    const { Name } = JSON.parse(body || '{}') as { Name?: string }
    asked.push(`${req.headers['x-amz-target']} ${Name}`)
    res.setHeader('Content-Type', 'application/x-amz-json-1.1')
    if (req.headers['x-amz-target'] === 'AmazonSSM.GetParameter' && Name === parameterName) {
      res.end(JSON.stringify({ Parameter: { Name, Type: 'String', Value: AUTHORIZER_ARN, Version: 1 } }))
    } else {
      res.statusCode = 400
      res.end(JSON.stringify({ __type: 'ParameterNotFound', message: `${Name} not found` }))
    }
  })
})

/**
 * Packages a copy laid out as in the repository (osls deletes `.serverless/` and serverless-esbuild its work
 * folder in the service folder): the service, and the two files of lib/ the README tells teams to copy.
 */
beforeAll(async () => {
  await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve))
  const { port } = ssm.address() as AddressInfo
  work = await mkdtemp(join(tmpdir(), 'orders-service-package-'))
  const service = join(work, 'examples', 'orders-service')
  for (const entry of ['serverless.yml', 'package.json', 'functions']) await cp(join(SERVICE, entry), join(service, entry), { recursive: true })
  await mkdir(join(work, 'lib'))
  for (const file of ['require-auth.ts', 'errors.ts']) await cp(join(ROOT, 'lib', file), join(work, 'lib', file))
  await symlink(join(ROOT, 'node_modules'), join(work, 'node_modules'), 'dir')
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith('AWS_') && !['JWT_SECRET', 'DATABASE_URL', 'LOG_LEVEL', 'STAGE'].includes(key)) env[key] = value
  }
  Object.assign(env, {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
    AWS_CONFIG_FILE: join(work, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${port}`,
  })
  await promisify(execFile)(
    process.execPath,
    ['--disable-warning=NodeVersionSupportWarning', join(ROOT, 'node_modules/osls/bin/serverless.js'), 'package', '--stage', STAGE],
    { cwd: service, env, timeout: 60_000 },
  )
  out = join(service, '.serverless')
  resources = (JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')) as { Resources: Record<string, Resource> })
    .Resources
}, 90_000)

afterAll(async () => {
  await new Promise((resolve) => ssm.close(resolve))
  if (work) await rm(work, { recursive: true, force: true })
})

const ofType = (type: string): [string, Resource][] => Object.entries(resources).filter(([, r]) => r.Type === type)

/** `arn:...:lambda:path/2015-03-31/functions/<arn>/invocations`, as osls joins it: the function ARN in it. */
const invokedArn = (uri: { 'Fn::Join': [string, unknown[]] }): unknown => uri['Fn::Join'][1].at(-2)

/** One file of a zip archive (stored or deflated), found through its central directory entry. */
function unzip(zip: Buffer, name: string): Buffer {
  const names = zipEntries(zip)
  let offset = zip.readUInt32LE(zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06])) + 16)
  for (const entry of names) {
    const [method, compressedSize, nameLength, extraLength, commentLength, local] = [
      zip.readUInt16LE(offset + 10),
      zip.readUInt32LE(offset + 20),
      zip.readUInt16LE(offset + 28),
      zip.readUInt16LE(offset + 30),
      zip.readUInt16LE(offset + 32),
      zip.readUInt32LE(offset + 42),
    ]
    if (entry === name) {
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28)
      const data = zip.subarray(start, start + compressedSize)
      return method === 0 ? data : inflateRawSync(data)
    }
    offset += 46 + nameLength + extraLength + commentLength
  }
  throw new Error(`${name} is not in the archive`)
}

describe('osls package of the orders service', () => {
  it('asks SSM for nothing but the authorizer ARN parameter our stack writes', () => {
    expect(parameterName).toBe(`/attune-auth/${STAGE}/authorizer-arn`)
    expect(new Set(asked)).toEqual(new Set([`AmazonSSM.GetParameter ${parameterName}`]))
  })

  it('puts our authorizer, by its ARN, on the REST API route: a REQUEST authorizer on the Authorization header, no cache', () => {
    const [[id, authorizer]] = ofType('AWS::ApiGateway::Authorizer') as [[string, Resource]]
    expect(authorizer.Properties).toMatchObject({ Type: 'REQUEST', IdentitySource: 'method.request.header.Authorization', AuthorizerResultTtlInSeconds: 0 })
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
    expect(routes).toEqual([expect.objectContaining({ RouteKey: 'GET /v2/orders', AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: id } })])
  })

  it("adds no permission on our authorizer function: our stack's own permission covers every API of the account", () => {
    const targets = ofType('AWS::Lambda::Permission').map(([, p]) => JSON.stringify(p.Properties['FunctionName']))
    expect(targets.length).toBe(2)
    for (const target of targets) expect(target).not.toContain(AUTHORIZER_ARN)
  })

  it('bundles each handler into one small ESM file that answers like the source', async () => {
    for (const [fn, exported] of [['restOrders', 'restHandler'], ['httpOrders', 'httpHandler']] as const) {
      const zip = readFileSync(join(out, `${fn}.zip`))
      expect(zipEntries(zip), fn).toEqual(['functions/orders.mjs'])
      const bundle = unzip(zip, 'functions/orders.mjs')
      expect(bundle.byteLength, fn).toBeLessThan(8 * 1024)
      const file = join(out, `${fn}.mjs`)
      await writeFile(file, bundle)
      const mod = (await import(pathToFileURL(file).href)) as Record<string, (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>>
      expect(typeof mod[exported], fn).toBe('function')
      const rest = mod['restHandler']
      if (!rest) throw new Error(`${fn}: no restHandler in the bundle`)
      const allowed = await rest(restEvent({ method: 'GET', path: '/orders', authorizer: { principalId: '7', identityId: '7', login: 'alice', sessionId: 's-1' } }))
      expect(allowed.statusCode, fn).toBe(200)
      expect(JSON.parse(allowed.body).data.owner, fn).toEqual({ identityId: 7, login: 'alice' })
      const refused = await rest(restEvent({ method: 'GET', path: '/orders' }))
      expect(refused, fn).toMatchObject({ statusCode: 401, headers: { 'WWW-Authenticate': BEARER_CHALLENGE } })
    }
  })
})
