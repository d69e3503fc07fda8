/**
 * The zips `npm run package` builds (stage `local`, packaged offline: tests/support/osls-package.ts), run by AWS's own
 * loader: aws-lambda-ric, the Runtime Interface Client AWS publishes on npm, on the Node major of the template's
 * `Runtime` (from npm, as .ci/run gets it), as a user that is not root, with the code read-only, the template's
 * environment for each function and AWS's sample events (tests/fixtures/aws-events). Each function loads, answers
 * the documented shapes, and asks for the next event afterwards (tests/support/runtime-api).
 * A dead database (a closed port) answers 503; the functions that work on the database do so on the test run's.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REASONS } from '@attune-auth/client'
import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INSECURE_DEVELOPMENT_SECRET } from '../../lib/config.js'
import { requestAuthorizerEvent, restEvent, uniqueLogin } from '../support/events.js'
import type { PackagedStage } from '../support/osls-package.js'
import { packageStage } from '../support/osls-package.js'
import type { FunctionRun, LambdaFunction, LambdaRuntime } from '../support/runtime-api/lambda.js'
import {
  FUNCTION_USER,
  functionUid,
  invokeFunction,
  prepareRuntime,
  removeReadOnly,
  runningAsRoot,
  sharedTempDir,
  unpackFunction,
  writeAsFunctionUser,
} from '../support/runtime-api/lambda.js'
import { accessClaims, forge } from '../support/tokens.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const FILES = ['serverless.yml', 'package.json', 'tsconfig.json', 'functions', 'lib', 'infra', 'packages']
/** The representative set: public documents, a credential endpoint, a protected route, registration and the authorizer. */
const NAMES = ['jwks', 'openid-configuration', 'login', 'register', 'me', 'authorizer'] as const
type Name = (typeof NAMES)[number]

let packaged: PackagedStage | undefined
let runtime: LambdaRuntime | undefined
let work: string | undefined
const functions = {} as Record<Name, LambdaFunction>
/** A database nobody listens on. */
let deadDatabase: Record<string, string>

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

beforeAll(async () => {
  packaged = await packageStage({ root: ROOT, files: FILES, stage: 'local', parameters: {} })
  const runtimes = new Set(
    Object.values(packaged.resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function')
      .map((r) => r.Properties['Runtime'] as string),
  )
  expect([...runtimes]).toHaveLength(1)
  const major = Number(/^nodejs(\d+)\.x$/.exec([...runtimes][0] as string)?.[1])
  runtime = await prepareRuntime(major)
  work = await sharedTempDir('attune-lambda-task-')
  for (const name of NAMES) functions[name] = await unpackFunction(packaged.resources, `functions/${name}.handler`, packaged.out, work)
  deadDatabase = { DATABASE_URL: `postgres://attune:attune@127.0.0.1:${await closedPort()}/attune` }
}, 240_000)

afterAll(async () => {
  if (work) await removeReadOnly(work)
  await runtime?.cleanup()
  await packaged?.cleanup()
})

/** One cold start and invocation of `name`, which must answer once and then ask for the next event, as the functions' user. */
async function invoke(name: Name, event: unknown, overrides: Record<string, string> = {}): Promise<FunctionRun> {
  const run = await invokeFunction(runtime as LambdaRuntime, functions[name], event, overrides)
  expect(run.unexpected, name).toEqual([])
  expect(run.askedAgain, `${name} did not ask for the next event; its output:\n${run.output}`).toBe(true)
  if (run.uid !== undefined) expect(run.uid, name).toBe(functionUid())
  return run
}

interface Answer {
  status: number
  headers: Record<string, unknown>
  body: any
}

/** The API Gateway proxy result a function answered, its body parsed. */
function answer(run: FunctionRun): Answer {
  expect(run.outcome.kind, `the runtime answered ${JSON.stringify(run.outcome)}; its output:\n${run.output}`).toBe('response')
  const result = (run.outcome as { body: APIGatewayProxyResult }).body
  return { status: result.statusCode, headers: result.headers ?? {}, body: JSON.parse(result.body) }
}

/** The authorizer's answer (a policy), or the error it failed with. */
const policy = (run: FunctionRun): APIGatewayAuthorizerResult => {
  expect(run.outcome.kind, `the runtime answered ${JSON.stringify(run.outcome)}; its output:\n${run.output}`).toBe('response')
  return (run.outcome as { body: APIGatewayAuthorizerResult }).body
}

/** A request from an address of its own (IPv6 documentation range, counted by /64), so no other run's counters apply. */
function fromOwnAddress(event: APIGatewayProxyEvent): APIGatewayProxyEvent {
  event.requestContext.identity.sourceIp = `2001:db8:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}::7`
  return event
}

const unavailable = {
  error: REASONS.service_unavailable.message,
  code: 'SERVICE_UNAVAILABLE',
  reason: 'service_unavailable',
}

describe("the packaged functions under AWS's runtime interface client (aws-lambda-ric), on the template's Node", () => {
  it('runs every function as a user that is not root and cannot write its code (nobody, 65534, when the tests run as root)', async () => {
    expect(runtime?.version).toMatch(new RegExp(`^v${runtime?.major}\\.`))
    const run = await invoke('jwks', restEvent({ method: 'GET', path: '/.well-known/jwks.json' }))
    expect(run.uid, 'the runtime process has no /proc entry').toBeDefined()
    expect(run.uid).not.toBe(0)
    if (runningAsRoot()) expect(run.uid).toBe(FUNCTION_USER.uid)
    for (const name of NAMES) {
      expect(await writeAsFunctionUser(runtime as LambdaRuntime, functions[name].taskRoot), name).toBe('EACCES')
      expect(await writeAsFunctionUser(runtime as LambdaRuntime, join(functions[name].taskRoot, 'functions')), name).toBe('EACCES')
    }
  })

  it('jwks: 200 {keys: []} with the template’s HS256, and the public EC key with ES256 and a JWT_PUBLIC_KEY', async () => {
    const event = restEvent({ method: 'GET', path: '/.well-known/jwks.json' })
    expect(functions.jwks.variables['JWT_ALGORITHM']).toBe('HS256')
    const hs256 = answer(await invoke('jwks', event))
    expect(hs256).toMatchObject({ status: 200, body: { keys: [] }, headers: { 'Cache-Control': 'public, max-age=300' } })

    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const es256 = answer(await invoke('jwks', event, { JWT_ALGORITHM: 'ES256', JWT_PUBLIC_KEY: pem }))
    expect(es256.status).toBe(200)
    expect(es256.body.keys).toEqual([
      { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), alg: 'ES256', use: 'sig' },
    ])
  })

  it('openid-configuration: 404 discovery_not_configured with the template’s JWT_ISSUER, 200 with an https one', async () => {
    const event = restEvent({ method: 'GET', path: '/.well-known/openid-configuration' })
    const issuer = functions['openid-configuration'].variables['JWT_ISSUER'] as string
    const asTemplated = answer(await invoke('openid-configuration', event))
    if (/^https?:\/\//.test(issuer)) {
      expect(asTemplated).toMatchObject({ status: 200, body: { issuer } })
    } else {
      expect(asTemplated).toMatchObject({
        status: 404,
        body: { error: REASONS.discovery_not_configured.message, code: 'NOT_FOUND', reason: 'discovery_not_configured' },
      })
    }
    const published = answer(await invoke('openid-configuration', event, { JWT_ISSUER: 'https://auth.attune.test' }))
    expect(published).toMatchObject({
      status: 200,
      body: { issuer: 'https://auth.attune.test', jwks_uri: 'https://auth.attune.test/.well-known/jwks.json' },
    })
  })

  it('login: a dead database answers 503 SERVICE_UNAVAILABLE', async () => {
    const event = fromOwnAddress(
      restEvent({ method: 'POST', path: '/auth/login', body: { login: uniqueLogin('ric'), password: 'securepassword123' } }),
    )
    const run = await invoke('login', event, deadDatabase)
    expect(answer(run)).toMatchObject({ status: 503, body: unavailable })
  })

  it('me: 401 token_missing without an authorizer context, before any database work', async () => {
    const me = answer(await invoke('me', restEvent({ method: 'GET', path: '/auth/me' }), deadDatabase))
    expect(me).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED', reason: 'token_missing' } })
    expect(me.headers['WWW-Authenticate']).toMatch(/^Bearer/)
  })

  it('authorizer: a dead database fails the invocation (not `Unauthorized`: API Gateway answers 503)', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await forge(accessClaims({ iat: now, exp: now + 600 }), {}, new TextEncoder().encode(INSECURE_DEVELOPMENT_SECRET))
    const run = await invoke('authorizer', requestAuthorizerEvent({ Authorization: `Bearer ${token}` }), deadDatabase)
    expect(run.outcome.kind, run.output).toBe('error')
    expect((run.outcome as { body: { errorMessage?: string } }).body.errorMessage).not.toBe('Unauthorized')
  })

  it('on the test database: register and login answer tokens, the authorizer Allows with a context, and me answers its profile', async () => {
    const database = { DATABASE_URL: process.env['DATABASE_URL'] as string }
    const login = uniqueLogin('ric')
    const password = 'securepassword123'
    const tokens = { access_token: expect.any(String), refresh_token: expect.any(String), token_type: 'Bearer', expires_in: 3600 }

    const registered = answer(
      await invoke('register', fromOwnAddress(restEvent({ method: 'POST', path: '/auth/register', body: { login, password } })), database),
    )
    expect(registered).toMatchObject({ status: 200, body: { data: tokens } })
    const signedIn = answer(
      await invoke('login', fromOwnAddress(restEvent({ method: 'POST', path: '/auth/login', body: { login, password } })), database),
    )
    expect(signedIn).toMatchObject({ status: 200, body: { data: tokens } })

    const allowed = policy(
      await invoke('authorizer', requestAuthorizerEvent({ Authorization: `Bearer ${signedIn.body.data.access_token}` }), database),
    )
    expect(allowed.policyDocument.Statement).toMatchObject([{ Effect: 'Allow' }])
    expect(allowed.context).toMatchObject({ login, identityId: expect.any(Number), sessionId: expect.any(String) })
    const denied = policy(await invoke('authorizer', requestAuthorizerEvent(), database))
    expect(denied).toMatchObject({ principalId: 'anonymous', policyDocument: { Statement: [{ Effect: 'Deny' }] } })
    expect(denied.context).toEqual({ error: REASONS.token_missing.message, code: 'UNAUTHORIZED', reason: 'token_missing' })

    // REST API Gateway passes the context on with its values as strings.
    const context = Object.fromEntries(Object.entries(allowed.context ?? {}).map(([key, value]) => [key, String(value)]))
    const me = answer(await invoke('me', restEvent({ method: 'GET', path: '/auth/me', authorizer: context }), database))
    expect(me).toMatchObject({ status: 200, body: { data: { id: allowed.context?.['identityId'], login, roles: [], permissions: [] } } })
  })
})
