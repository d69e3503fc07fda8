/**
 * The deploy workflow's migrate step (infra/invoke-migrate.ts) against a fake Lambda endpoint on localhost that
 * answers the Invoke API (`POST /2015-03-31/functions/<name>/invocations`) and counts the invocations. The real
 * timeouts are minutes; here they are injected small: a slow answer within the client's timeout is waited for
 * and invoked once, a 5xx or a timeout is not retried, a function error fails with the function's message.
 * A client with the SDK's default retries and a timeout shorter than the function (osls's settings, scaled
 * down) shows what the step avoids: five invocations of one migration.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { parse } from 'yaml'
import { clientTimeoutMs, invokeMigrate, migrateClient, migrateFunctionSettings, migrateOutcome } from '../../../infra/invoke-migrate.js'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const SERVERLESS_YML = readFileSync(join(ROOT, 'serverless.yml'), 'utf8')
const FUNCTION = 'attune-auth-dev-migrate'
const INVOKE_PATH = `/2015-03-31/functions/${FUNCTION}/invocations`

/** Fake credentials, and no shared config file or instance metadata: nothing can reach AWS. */
const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDFAKEFAKEFAKEFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret',
  AWS_SESSION_TOKEN: 'fake-session',
  AWS_REGION: 'us-east-1',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_EC2_METADATA_DISABLED: 'true',
}

type Answer = (res: ServerResponse, req: IncomingMessage) => void
interface FakeLambda {
  endpoint: string
  /** The invocations received, in order. */
  requests: { method: string; path: string; headers: IncomingMessage['headers'] }[]
  answer: Answer
}

let server: Server
const lambda: FakeLambda = { endpoint: '', requests: [], answer: () => {} }
/** Responses left hanging by a test (a timeout), ended after it. */
const hanging: ServerResponse[] = []

const result = (payload: unknown, headers: Record<string, string> = {}): Answer => {
  return (res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST', ...headers })
    res.end(JSON.stringify(payload))
  }
}
const later =
  (ms: number, answer: Answer): Answer =>
  (res, req) => {
    setTimeout(() => answer(res, req), ms)
  }

beforeAll(async () => {
  for (const [name, value] of Object.entries(FAKE_AWS_ENV)) vi.stubEnv(name, value)
  server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      lambda.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers })
      lambda.answer(res, req)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  lambda.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(() => {
  for (const res of hanging.splice(0)) res.destroy()
  lambda.requests = []
})

afterAll(async () => {
  vi.unstubAllEnvs()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

describe('the migrate function’s settings, from serverless.yml', () => {
  it('are its deployed name and timeout; the client waits longer than the function may run', () => {
    const doc = parse(SERVERLESS_YML, { logLevel: 'error' }) as { functions: { migrate: { timeout: number } } }
    const settings = migrateFunctionSettings(SERVERLESS_YML, 'dev')
    expect(settings).toEqual({ functionName: FUNCTION, timeoutSeconds: doc.functions.migrate.timeout })
    expect(clientTimeoutMs(settings.timeoutSeconds)).toBeGreaterThan(settings.timeoutSeconds * 1000)
    // osls's client gives up after 120 s: the reason for this step.
    expect(clientTimeoutMs(settings.timeoutSeconds)).toBeGreaterThan(120_000)
  })

  it('refuse a timeout that is not a number of seconds', () => {
    const yml = 'service: s\nfunctions:\n  migrate:\n    handler: h\n    timeout: ${param:migrateTimeout}\n'
    expect(() => migrateFunctionSettings(yml, 'dev')).toThrow(/not a number of seconds/)
    expect(migrateFunctionSettings('service: s\nprovider:\n  timeout: 20\nfunctions:\n  migrate:\n    handler: h\n', 'prod')).toEqual({
      functionName: 's-prod-migrate',
      timeoutSeconds: 20,
    })
  })
})

describe('invoking migrate against a fake Lambda endpoint', () => {
  it('makes one attempt only (maxAttempts 1)', async () => {
    const client = migrateClient({ region: 'us-east-1', timeoutMs: 1000, endpoint: lambda.endpoint })
    expect(await client.config.maxAttempts()).toBe(1)
    client.destroy()
  })

  it('(a) waits for a slow answer within its timeout, and invokes exactly once', async () => {
    lambda.answer = later(1500, result({ applied: ['0001_initial', '0002_sessions'] }))
    const started = Date.now()
    const outcome = await invokeMigrate({ functionName: FUNCTION, region: 'us-east-1', timeoutMs: 3000, endpoint: lambda.endpoint })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400)
    expect(outcome).toMatchObject({ ok: true, statusCode: 200, payload: { applied: ['0001_initial', '0002_sessions'] } })
    expect(lambda.requests).toHaveLength(1)
    expect(lambda.requests[0]).toMatchObject({
      method: 'POST',
      path: INVOKE_PATH,
      headers: { 'x-amz-invocation-type': 'RequestResponse', 'x-amz-log-type': 'Tail' },
    })
    expect(lambda.requests[0]?.headers.authorization).toContain('Credential=AKIDFAKEFAKEFAKEFAKE/')
  })

  it('(b) does not retry a 5xx: one invocation, and the error rejects', async () => {
    lambda.answer = (res) => {
      res.writeHead(500, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'ServiceException' })
      res.end(JSON.stringify({ Type: 'Service', message: 'internal failure' }))
    }
    await expect(
      invokeMigrate({ functionName: FUNCTION, region: 'us-east-1', timeoutMs: 3000, endpoint: lambda.endpoint }),
    ).rejects.toThrow(/internal failure/)
    expect(lambda.requests).toHaveLength(1)
  })

  it('(b) does not retry a timeout: one invocation, then a TimeoutError', async () => {
    lambda.answer = (res) => {
      hanging.push(res)
    }
    const started = Date.now()
    const error = await invokeMigrate({ functionName: FUNCTION, region: 'us-east-1', timeoutMs: 500, endpoint: lambda.endpoint }).catch(
      (e: unknown) => e,
    )
    expect(error).toMatchObject({ name: 'TimeoutError' })
    expect(Date.now() - started).toBeLessThan(5000) // 500 ms, not a retry's more
    expect(lambda.requests).toHaveLength(1)
  })

  it('(c) fails on a function error, with the function’s own message and log', async () => {
    const log = Buffer.from('START RequestId: 1\nERROR migration 0009 failed\nEND RequestId: 1\n').toString('base64')
    lambda.answer = result(
      { errorType: 'PostgresError', errorMessage: 'migration 0009_login_key failed: duplicate key', trace: ['at migrate'] },
      { 'X-Amz-Function-Error': 'Unhandled', 'X-Amz-Log-Result': log },
    )
    const outcome = await invokeMigrate({ functionName: FUNCTION, region: 'us-east-1', timeoutMs: 3000, endpoint: lambda.endpoint })
    expect(outcome.ok).toBe(false)
    expect(outcome.reason).toBe('function error (Unhandled): PostgresError: migration 0009_login_key failed: duplicate key')
    expect(outcome.log).toContain('ERROR migration 0009 failed')
    expect(lambda.requests).toHaveLength(1)
  })

  it('fails on a result that is not the migrate function’s, or a status other than 200', () => {
    const payload = (value: unknown) => new TextEncoder().encode(JSON.stringify(value))
    expect(migrateOutcome({ StatusCode: 200, Payload: payload({ applied: [] }) }).ok).toBe(true)
    expect(migrateOutcome({ StatusCode: 200, Payload: payload(null) })).toMatchObject({ ok: false, reason: /applied/ })
    expect(migrateOutcome({ StatusCode: 200, Payload: new TextEncoder().encode('not json') })).toMatchObject({ ok: false })
    expect(migrateOutcome({ StatusCode: 200, Payload: payload({ applied: [1] }) })).toMatchObject({ ok: false })
    expect(migrateOutcome({ StatusCode: 202, Payload: payload({ applied: [] }) })).toMatchObject({ ok: false, reason: /status 202/ })
  })

  it('is what it replaces: with the SDK’s default retries and a timeout below the function’s, one migration is invoked 5 times', async () => {
    lambda.answer = (res) => {
      hanging.push(res)
    }
    // osls: a socket timeout of 120 s (here 200 ms) for a function that runs longer, and 4 retries.
    const osls = new LambdaClient({
      region: 'us-east-1',
      endpoint: lambda.endpoint,
      maxAttempts: 5,
      requestHandler: { socketTimeout: 200 },
    })
    await expect(osls.send(new InvokeCommand({ FunctionName: FUNCTION, Payload: '{}' }))).rejects.toMatchObject({ name: 'TimeoutError' })
    osls.destroy()
    expect(lambda.requests).toHaveLength(5)
  })
})

describe('npm run migrate:invoke (the workflow step), against the fake endpoint', () => {
  const run = async (): Promise<{ code: number; output: string }> => {
    const env = { ...process.env, ...FAKE_AWS_ENV, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint, GITHUB_ACTIONS: 'true' }
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'infra/invoke-migrate.ts', '--stage', 'dev', '--region', 'us-east-1'],
        { cwd: ROOT, env, timeout: 15_000 },
      )
      return { code: 0, output: stdout + stderr }
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string }
      return { code: failed.code, output: failed.stdout + failed.stderr }
    }
  }

  it('exits 0 and prints what was applied', async () => {
    lambda.answer = result({ applied: ['0003_audit'] })
    const { code, output } = await run()
    expect(output).toContain(`invoking ${FUNCTION} in us-east-1 once`)
    expect(output).toContain('migrate: applied 1: 0003_audit')
    expect(code).toBe(0)
    expect(lambda.requests.map((r) => r.path)).toEqual([INVOKE_PATH])
  })

  it('exits 1 on a function error, printing the function’s result and an error annotation', async () => {
    lambda.answer = result({ errorType: 'Error', errorMessage: 'migration 0004 failed: boom' }, { 'X-Amz-Function-Error': 'Unhandled' })
    const { code, output } = await run()
    expect(code).toBe(1)
    expect(output).toContain('"errorMessage": "migration 0004 failed: boom"')
    expect(output).toContain(`::error title=migrate::${FUNCTION}: function error (Unhandled): Error: migration 0004 failed: boom`)
    expect(lambda.requests).toHaveLength(1)
  })
})

describe('the deploy workflow', () => {
  interface Step {
    run?: string
    uses?: string
  }
  const workflow = parse(readFileSync(join(ROOT, '.github/workflows/deploy.yml'), 'utf8')) as {
    jobs: Record<string, { env?: Record<string, string>; steps: Step[] }>
  }
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>

  it.each(Object.keys(workflow.jobs))('job %s migrates with this script after its deploy, and never with osls invoke', (id) => {
    const steps = workflow.jobs[id]?.steps ?? []
    const index = (match: RegExp): number => steps.findIndex((step) => match.test(step.run ?? ''))
    expect(scripts['migrate:invoke']).toBe('node --import tsx infra/invoke-migrate.ts')
    expect(workflow.jobs[id]?.env?.['STAGE']).toMatch(/^(dev|prod)$/)
    const migrate = index(/npm run migrate:invoke/)
    expect(migrate).toBeGreaterThan(index(/npx osls deploy/))
    expect(index(/npx osls deploy/)).toBeGreaterThan(-1)
    expect(steps[migrate]?.run?.trim()).toBe('npm run migrate:invoke -- --stage "$STAGE" --region "${{ vars.AWS_REGION }}"')
    expect(steps.filter((step) => /osls invoke/.test(step.run ?? ''))).toEqual([])
  })
})
