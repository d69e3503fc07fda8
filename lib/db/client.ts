/**
 * The PostgreSQL client (postgres.js): one per Lambda container, created on first use.
 * Bounded connect and statement timeouts keep an unreachable database well under API Gateway's 29 s.
 */
import postgres from 'postgres'
import type { Config } from '../config.js'
import { iamAuthToken } from './iam-auth.js'

export type Sql = postgres.Sql
/** The pool or a transaction: what a SQL fragment builder may be called with. */
export type Queryable = postgres.Sql | postgres.TransactionSql

/** A piece of SQL with its parameters, as postgres.js builds them, to be composed into a statement. */
export type Fragment = postgres.PendingQuery<postgres.Row[]>

/**
 * With IAM database authentication, what postgres.js calls for the password of each new connection to `url`: a
 * fresh token for the URL's user, host and port. Undefined otherwise (the URL's own password, if any).
 */
export function passwordFor(url: string, iam: Config['database']['iam']): (() => Promise<string>) | undefined {
  if (!iam) return undefined
  const target = new URL(url)
  return () => iamAuthToken({ host: target.hostname, port: Number(target.port || 5432), user: decodeURIComponent(target.username) }, iam)
}

export function createSql(database: Config['database']): Sql {
  const pass = passwordFor(database.url, database.iam)
  return postgres(database.url, {
    ...(pass ? { pass } : {}),
    max: database.poolMax,
    idle_timeout: 60,
    connect_timeout: database.connectTimeout,
    prepare: database.prepare,
    onnotice: () => {},
    connection: {
      application_name: 'attune-auth',
      statement_timeout: database.statementTimeout,
    },
  })
}

/** PostgreSQL's unique_violation. */
export function isUniqueViolation(error: unknown): boolean {
  return error instanceof postgres.PostgresError && error.code === '23505'
}
