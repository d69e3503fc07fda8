/**
 * One real PostgreSQL for the whole run: the server in DATABASE_URL when set (CI runs PostgreSQL 15
 * that way), otherwise an embedded PostgreSQL in a temporary folder, removed afterwards.
 * The schema is migrated once; tests use unique logins, so files can run in parallel without truncating.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
    const root = await mkdtemp(join(tmpdir(), 'attune-auth-test-'))
    await chmod(root, 0o755) // as root, the server runs as the postgres user, which must enter this folder
    // Loaded only when needed: a run against DATABASE_URL never touches the embedded server.
    const { startLocalDatabase } = await import('../../infra/local/database.js')
    const db = await startLocalDatabase({ dataDir: join(root, 'pg'), persistent: false }).catch(async (error: unknown) => {
      await rm(root, { recursive: true, force: true })
      throw error
    })
    url = db.url
    teardown = async () => {
      await db.stop()
      await rm(root, { recursive: true, force: true })
    }
  }
  await migrate(url)
  project.provide('databaseUrl', url)
  return teardown
}
