/**
 * The migration function, invoked after each deploy (`osls invoke --function migrate`): applies pending
 * migrations under the advisory lock, idempotently. A failed migration fails the invocation, and so the deploy.
 * The SQL files ship in this function's package (serverless.yml `package.patterns`).
 */
import { fileURLToPath } from 'node:url'
import { getConfig, refreshSecrets } from '../lib/config.js'
import { passwordFor } from '../lib/db/client.js'
import { bootstrapAdminKey, migrate } from '../lib/db/migrate.js'
import { configureLogging, logger } from '../lib/log.js'

/** Beside this file in the source tree and in the deployed package alike: `functions/` and `infra/` are siblings. */
const MIGRATIONS = fileURLToPath(new URL('../infra/migrations', import.meta.url))

export interface MigrationResult {
  applied: string[]
}

export async function handler(): Promise<MigrationResult> {
  // The migrations' own login too (MIGRATION_DATABASE_URL), which only this function may read.
  await refreshSecrets(Date.now(), { migration: true })
  const config = getConfig()
  configureLogging(config)
  const { migrationUrl, iam } = config.database
  const pass = passwordFor(migrationUrl, iam)
  const applied = await migrate(migrationUrl, {
    dir: MIGRATIONS,
    ...(pass ? { pass } : {}),
    onApplied: ({ id, name }) => logger.info('migration applied', { event: 'db.migrate', id, name }),
    bootstrapAdminKey: bootstrapAdminKey(config.bootstrapAdminLogin),
    onBootstrap: (outcome) => logger.info(`BOOTSTRAP_ADMIN_LOGIN: ${outcome}`, { event: 'db.bootstrap_admin', outcome }),
  })
  logger.info(applied.length === 0 ? 'schema is up to date' : 'migrations applied', { event: 'db.migrate', count: applied.length })
  return { applied }
}
