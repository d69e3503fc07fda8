/**
 * Schema migrations, applied once each, in order, recorded in `attune.migrations` (the table and names
 * postgres-shift used before, so existing databases carry on): the SQL files `infra/migrations/NNNNN_name.sql`,
 * and the code steps below, which take their own numbers in the same sequence. A code step is a migration
 * that needs the application (the Unicode data behind login keys), bundled with the migrate function; SQL
 * alone cannot compute it, and postgres-shift could only import code steps from files at run time, which a
 * bundled Lambda package does not have.
 *
 * Every pending migration runs in one transaction (a failure applies none of them), under an advisory lock,
 * so two deploys (or two test workers) migrating at once apply each one exactly once.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import { canonicalLogin } from '../logins/canonical.js'
import { loadCommonPasswords } from './migrations/common-passwords.js'
import { backfillLoginKeys } from './migrations/login-keys.js'

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../infra/migrations', import.meta.url))

/** pg_advisory_lock key: the first 8 bytes of sha256('attune-auth:migrations'), as a signed bigint. */
const LOCK_KEY = '-9112878179117923478'

export type Transaction = postgres.TransactionSql

/** Migrations written in code, by number; their numbers sit between the SQL files'. `dir`: the migrations folder. */
export const CODE_MIGRATIONS: Readonly<Record<number, { name: string; run: (sql: Transaction, dir: string) => Promise<void> }>> = {
  5: { name: 'login keys backfill', run: backfillLoginKeys },
  9: { name: 'common passwords', run: loadCommonPasswords },
}

export interface MigrateOptions {
  dir?: string
  /** The password, or a function that signs one for each connection (IAM database authentication, lib/db/iam-auth.ts). */
  pass?: () => Promise<string>
  onApplied?: (migration: { id: number; name: string }) => void
  /**
   * The canonical key of a login to hold the `admin` role (BOOTSTRAP_ADMIN_LOGIN), granted after the migrations
   * when that identity exists and does not hold it yet: the first administrator, without a console.
   */
  bootstrapAdminKey?: string | undefined
  /** Told whether the bootstrap admin was granted now, already held the role, or does not exist (yet). */
  onBootstrap?: (outcome: 'granted' | 'held' | 'no_such_login') => void
}

interface Migration {
  id: number
  name: string
  run: (sql: Transaction) => Promise<unknown>
}

/** The SQL files and code steps, in order; their numbers must run 1, 2, 3, ... with no gap or repeat. */
export function migrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir)
    .filter((file) => /^\d{5}_.+\.sql$/.test(file))
    .map(
      (file): Migration => ({
        id: Number(file.slice(0, 5)),
        name: file.slice(6).replace(/-/g, ' '),
        run: (sql) => sql.file(join(dir, file)),
      }),
    )
  const code = Object.entries(CODE_MIGRATIONS).map(
    ([id, step]): Migration => ({ id: Number(id), name: step.name, run: (sql) => step.run(sql, dir) }),
  )
  const all = [...files, ...code].sort((a, b) => a.id - b.id)
  all.forEach((migration, index) => {
    if (migration.id !== index + 1) throw new Error(`migration numbering has a gap or a repeat at ${String(migration.id).padStart(5, '0')}`)
  })
  return all
}

/** The canonical key of BOOTSTRAP_ADMIN_LOGIN (undefined when unset or not a valid login: nobody is granted). */
export function bootstrapAdminKey(login: string | undefined): string | undefined {
  if (!login) return undefined
  const canonical = canonicalLogin(login.normalize('NFC'))
  return canonical.ok ? canonical.key : undefined
}

/** Grants `admin` to the identity of login key `key`, as the system, with its audit row. */
async function bootstrapAdmin(sql: Transaction, key: string): Promise<'granted' | 'held' | 'no_such_login'> {
  const [row] = await sql<{ id: string | null; granted: boolean }[]>`
    with target as (select id from attune.identity where login_key = ${key}),
    granted as (
      insert into attune.identity_role (identity_id, role) select id, 'admin' from target
      on conflict (identity_id, role) do nothing
      returning identity_id
    ), event as (
      insert into attune.audit_event (type, outcome, identity_id, actor_type, data)
      select 'role.granted', 'success', identity_id, 'system', jsonb_build_object('role', 'admin', 'by', 'BOOTSTRAP_ADMIN_LOGIN')
      from granted
    )
    select (select id from target) as id, exists (select 1 from granted) as granted`
  if (!row?.id) return 'no_such_login'
  return row.granted ? 'granted' : 'held'
}

/** Applies pending migrations; returns the names applied (empty when the schema was current). */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const pending = migrations(options.dir)
  const applied: string[] = []
  const sql = postgres(databaseUrl, {
    max: 1,
    onnotice: () => {},
    connection: { application_name: 'attune-auth-migrate' },
    ...(options.pass ? { pass: options.pass } : {}),
  })
  try {
    await sql.begin(async (tx) => {
      // Transaction-scoped: released at commit or rollback, whatever happens in between.
      await tx`select pg_advisory_xact_lock(${LOCK_KEY})`
      await tx`create schema if not exists attune`
      await tx`
        create table if not exists attune.migrations (
          migration_id serial primary key,
          created_at timestamp with time zone not null default now(),
          name text
        )`
      const [last] = await tx<{ id: number | null }[]>`select max(migration_id) as id from attune.migrations`
      for (const migration of pending.filter((m) => m.id > (last?.id ?? 0))) {
        await migration.run(tx)
        await tx`insert into attune.migrations (migration_id, name) values (${migration.id}, ${migration.name})`
        applied.push(migration.name)
        options.onApplied?.({ id: migration.id, name: migration.name })
      }
      if (options.bootstrapAdminKey !== undefined) options.onBootstrap?.(await bootstrapAdmin(tx, options.bootstrapAdminKey))
    })
  } finally {
    await sql.end()
  }
  return applied
}
