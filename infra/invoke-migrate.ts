/**
 * `npm run migrate:invoke -- --stage <stage> --region <region>`: the deploy workflow's migrate step. It invokes the
 * deployed `migrate` function once, synchronously, and fails (exit 1) unless the function returned its result
 * (`{ applied: [...] }`): a function error, a non-200 status, an unexpected payload, a timeout or a network error
 * all fail the step, with the function's result and the tail of its log printed.
 *
 * Why not `osls invoke`: osls's SDK client has a 120 s socket timeout and 4 retries, and counts a timeout as
 * retryable, so a migration that runs longer than 120 s is invoked 5 times (DESIGN.md §7). This client waits
 * longer than the function may run (its `timeout` in serverless.yml, plus a margin) and never retries: one
 * deploy, one invocation. Credentials and region come from the environment as for any AWS SDK client
 * (the workflow's OIDC step); AWS_ENDPOINT_URL_LAMBDA points it elsewhere (the tests' fake endpoint).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { parse } from 'yaml'
import type { MigrationResult } from '../functions/migrate.js'

export const USAGE = 'usage: npm run migrate:invoke -- --stage <stage> --region <region> [--function-name <name>]'

/** What the client waits beyond the function's own timeout: Lambda's start-up, the network, a cold start. */
export const TIMEOUT_MARGIN_SECONDS = 60
/** Lambda's default function timeout (osls leaves `timeout` unset when neither the function nor provider sets it). */
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 6

interface ServerlessYml {
  service?: unknown
  provider?: { timeout?: unknown }
  functions?: Record<string, { name?: unknown; timeout?: unknown } | undefined>
}

/** serverless.yml's settings of the migrate function: its deployed name on `stage` and its timeout in seconds. */
export function migrateFunctionSettings(serverlessYml: string, stage: string): { functionName: string; timeoutSeconds: number } {
  const doc = parse(serverlessYml, { logLevel: 'error' }) as ServerlessYml
  const migrate = doc.functions?.['migrate']
  if (migrate === undefined) throw new Error('serverless.yml has no function `migrate`')
  const timeout = migrate.timeout ?? doc.provider?.timeout ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1) {
    throw new Error(`the migrate function's timeout in serverless.yml is not a number of seconds: ${JSON.stringify(timeout)}`)
  }
  const name = migrate.name ?? `${String(doc.service)}-${stage}-migrate`
  if (typeof name !== 'string' || name.includes('${') || typeof doc.service !== 'string') {
    throw new Error(`cannot tell the migrate function's name from serverless.yml (${JSON.stringify(name)}): pass --function-name`)
  }
  return { functionName: name, timeoutSeconds: timeout }
}

/** The client's timeout for a function that may run `functionTimeoutSeconds`: always longer than the function. */
export const clientTimeoutMs = (functionTimeoutSeconds: number): number => (functionTimeoutSeconds + TIMEOUT_MARGIN_SECONDS) * 1000

export interface MigrateClientOptions {
  region: string
  /** How long one invocation may take, in ms: the socket may be idle that long and the whole request take that long. */
  timeoutMs: number
  /** Another endpoint than AWS's (the tests' fake); AWS_ENDPOINT_URL_LAMBDA does the same from the environment. */
  endpoint?: string
}

/**
 * A Lambda client that makes exactly one attempt (`maxAttempts: 1`: no retry on a timeout, a 5xx or a throttle)
 * and waits `timeoutMs` for the answer. TCP keep-alive keeps an idle connection of several minutes from being
 * dropped by a NAT on the way.
 */
export function migrateClient({ region, timeoutMs, endpoint }: MigrateClientOptions): LambdaClient {
  const agent = { keepAlive: true, keepAliveMsecs: 30_000 }
  return new LambdaClient({
    region,
    ...(endpoint === undefined ? {} : { endpoint }),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: Math.min(timeoutMs, 10_000),
      socketTimeout: timeoutMs,
      requestTimeout: timeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  })
}

export interface MigrateOutcome {
  ok: boolean
  /** Why it is not ok (the function's own error message for a function error). */
  reason?: string
  statusCode: number | undefined
  functionError: string | undefined
  /** The function's result: parsed JSON, or the raw text when it is not JSON. */
  payload: unknown
  /** The last 4 KB of the invocation's log (LogType Tail), decoded. */
  log: string
}

const isMigrationResult = (value: unknown): value is MigrationResult =>
  typeof value === 'object' &&
  value !== null &&
  Array.isArray((value as { applied?: unknown }).applied) &&
  (value as { applied: unknown[] }).applied.every((id) => typeof id === 'string')

/** What the step reads of an Invoke response (InvokeCommandOutput). */
export interface InvokeResponse {
  StatusCode?: number | undefined
  FunctionError?: string | undefined
  Payload?: Uint8Array | undefined
  LogResult?: string | undefined
}

/** Whether an Invoke response is the migrate function's result; anything else is a failure, with its reason. */
export function migrateOutcome(response: InvokeResponse): MigrateOutcome {
  const text = response.Payload === undefined ? '' : new TextDecoder().decode(response.Payload)
  let payload: unknown = text
  let json = false
  try {
    payload = JSON.parse(text)
    json = true
  } catch {}
  const base = {
    statusCode: response.StatusCode,
    functionError: response.FunctionError,
    payload,
    log: response.LogResult === undefined ? '' : Buffer.from(response.LogResult, 'base64').toString('utf8'),
  }
  if (response.FunctionError !== undefined) {
    const error = (json && typeof payload === 'object' && payload !== null ? payload : {}) as {
      errorType?: unknown
      errorMessage?: unknown
    }
    const message = typeof error.errorMessage === 'string' ? error.errorMessage : text || '(no message)'
    const type = typeof error.errorType === 'string' ? `${error.errorType}: ` : ''
    return { ...base, ok: false, reason: `function error (${response.FunctionError}): ${type}${message}` }
  }
  if (response.StatusCode !== 200) return { ...base, ok: false, reason: `status ${String(response.StatusCode)}, not 200` }
  if (!isMigrationResult(payload)) return { ...base, ok: false, reason: 'the function did not return { applied: [...] }' }
  return { ...base, ok: true }
}

export interface InvokeMigrateOptions extends MigrateClientOptions {
  functionName: string
}

/** Invokes the migrate function once and says whether it succeeded; a timeout or an AWS error rejects (not retried). */
export async function invokeMigrate({ functionName, ...client }: InvokeMigrateOptions): Promise<MigrateOutcome> {
  const lambda = migrateClient(client)
  try {
    const response = await lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', LogType: 'Tail', Payload: '{}' }),
    )
    return migrateOutcome(response)
  } finally {
    lambda.destroy()
  }
}

const annotate = (message: string): string => (process.env['GITHUB_ACTIONS'] === 'true' ? `::error title=migrate::${message}` : message)

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { stage: { type: 'string' }, region: { type: 'string' }, 'function-name': { type: 'string' } },
  })
  const region = values.region ?? process.env['AWS_REGION']
  if (values.stage === undefined || region === undefined) throw new Error(USAGE)
  const serverlessYml = readFileSync(fileURLToPath(new URL('../serverless.yml', import.meta.url)), 'utf8')
  const settings = migrateFunctionSettings(serverlessYml, values.stage)
  const functionName = values['function-name'] ?? settings.functionName
  const timeoutMs = clientTimeoutMs(settings.timeoutSeconds)
  console.log(
    `migrate: invoking ${functionName} in ${region} once (function timeout ${settings.timeoutSeconds} s; ` +
      `client waits ${timeoutMs / 1000} s, no retries)`,
  )
  const started = Date.now()
  let outcome: MigrateOutcome
  try {
    outcome = await invokeMigrate({ functionName, region, timeoutMs })
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error'
    console.error(
      annotate(
        `invoking ${functionName} failed after ${Math.round((Date.now() - started) / 1000)} s (not retried): ${name}: ${String(error instanceof Error ? error.message : error)}`,
      ),
    )
    return 1
  }
  const seconds = Math.round((Date.now() - started) / 1000)
  if (outcome.log !== '') console.log(`--- the end of the function's log ---\n${outcome.log.trimEnd()}\n---`)
  console.log(
    `migrate: the function's result (status ${String(outcome.statusCode)}, ${seconds} s):\n${JSON.stringify(outcome.payload, null, 2)}`,
  )
  if (!outcome.ok) {
    console.error(annotate(`${functionName}: ${outcome.reason ?? 'failed'}`))
    return 1
  }
  const { applied } = outcome.payload as MigrationResult
  console.log(applied.length === 0 ? 'migrate: the schema is up to date' : `migrate: applied ${applied.length}: ${applied.join(', ')}`)
  return 0
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    },
  )
}
