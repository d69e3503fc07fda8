/**
 * Schema migrations: postgres-shift (by the author of postgres.js) applies `infra/migrations/NNNNN_name.sql`
 * once each, in order, each in a transaction, recorded in `attune.migrations`. We add the advisory lock,
 * so two deploys (or two test workers) migrating at once apply each file exactly once.
 */
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import shift from 'postgres-shift'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../infra/migrations', import.meta.url))

/** pg_advisory_lock key: the first 8 bytes of sha256('attune-auth:migrations'), as a signed bigint. */
const LOCK_KEY = '-9112878179117923478'

export interface MigrateOptions {
  dir?: string
  onApplied?: (migration: { id: number; name: string }) => void
}

/** Applies pending migrations; returns the names applied (empty when the schema was current). */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const applied: string[] = []
  const sql = postgres(databaseUrl, {
    max: 2,
    onnotice: () => {},
    connection: { application_name: 'attune-auth-migrate', search_path: 'attune' },
  })
  try {
    const lock = await sql.reserve()
    try {
      await lock`select pg_advisory_lock(${LOCK_KEY})`
      await sql`create schema if not exists attune`
      await shift({
        sql,
        path: options.dir ?? MIGRATIONS_DIR,
        after: ({ migration_id, name }: { migration_id: number; name: string }) => {
          applied.push(name)
          options.onApplied?.({ id: migration_id, name })
        },
      })
    } finally {
      await lock`select pg_advisory_unlock(${LOCK_KEY})`
      lock.release()
    }
  } finally {
    await sql.end()
  }
  return applied
}
