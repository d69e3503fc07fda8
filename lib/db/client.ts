/**
 * The PostgreSQL client (postgres.js): one per Lambda container, created on first use.
 * Bounded connect and statement timeouts keep an unreachable database well under API Gateway's 29 s.
 */
import postgres from 'postgres'
import type { Config } from '../config.js'

export type Sql = postgres.Sql
/** The pool or a transaction: what a SQL fragment builder may be called with. */
export type Queryable = postgres.Sql | postgres.TransactionSql

/** A piece of SQL with its parameters, as postgres.js builds them, to be composed into a statement. */
export type Fragment = postgres.PendingQuery<postgres.Row[]>

export function createSql(database: Config['database']): Sql {
  return postgres(database.url, {
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
