/**
 * The identity repository: the `attune.identity` table (its first columns are the original specification's). A login is kept as typed (`login`, for
 * display) with its canonical key and confusable skeleton (lib/logins/), each uniquely indexed: a taken
 * login is detected by those indexes, never by check-then-insert.
 */
import { USER } from '../audit/events.js'
import type { SessionPolicy } from '../config.js'
import { recordEvents } from './audit.js'
import type { Sql } from './client.js'
import { isUniqueViolation } from './client.js'
import type { SessionOpening } from './sessions.js'
import { insertSession, recordOpened } from './sessions.js'

export interface Identity {
  id: number
  login: string
  displayName: string | null
  passwordHash: string | null
  /** Incremented by every password change; a session opens only at the version its login verified. */
  credentialsVersion: number
}

export interface NewIdentity {
  /** As typed (trimmed, NFC): shown, never compared. */
  login: string
  loginKey: string
  loginSkeleton: string
  displayName: string | null
  passwordHash: string
}

export class LoginTakenError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('login already exists', options)
    this.name = 'LoginTakenError'
  }
}

export interface IdentityRepository {
  /**
   * Inserts an identity and its first session in one statement, with their audit events (all or nothing);
   * throws LoginTakenError when an identity has the same login key or skeleton.
   */
  create(identity: NewIdentity, session: SessionOpening): Promise<Identity>
  /** The identity whose login has this canonical key. */
  findByLogin(loginKey: string): Promise<Identity | undefined>
  findById(id: number): Promise<Identity | undefined>
  /**
   * Replaces the hash of the same password (new Argon2 parameters), only while the credentials are still at
   * `credentialsVersion`: a rehash never overwrites a password changed in the meantime. False otherwise.
   */
  rehashPassword(id: number, credentialsVersion: number, passwordHash: string): Promise<boolean>
}

export interface IdentityRow {
  id: string
  login: string
  display_name: string | null
  password_hash: string | null
  credentials_version: string
}

export const toIdentity = (row: IdentityRow): Identity => ({
  // bigserial arrives as a string; ids stay far below 2^53 in practice, and the API promises a JSON number.
  id: Number(row.id),
  login: row.login,
  displayName: row.display_name,
  passwordHash: row.password_hash,
  credentialsVersion: Number(row.credentials_version),
})

/** The columns an Identity is read from. */
export const IDENTITY_COLUMNS = ['id', 'login', 'display_name', 'password_hash', 'credentials_version']

export function createIdentityRepository(sql: Sql, policy: SessionPolicy): IdentityRepository {
  return {
    async create(identity, session) {
      try {
        const [row] = await sql<IdentityRow[]>`
          with created as (
            insert into attune.identity (login, login_key, login_skeleton, display_name, password_hash)
            values (${identity.login}, ${identity.loginKey}, ${identity.loginSkeleton}, ${identity.displayName}, ${identity.passwordHash})
            returning ${sql(IDENTITY_COLUMNS)}
          ), opened as (${insertSession(sql, policy, session, 'created')}
          ), registered as (${recordEvents(
            sql,
            { type: 'identity.registered', outcome: 'success', actor: USER, origin: session },
            sql`select id as identity_id, null::uuid as session_id, '{}'::jsonb as data from created`,
          )}
          ), opened_event as (${recordOpened(sql, session, 'registration', 'opened')})
          select ${sql(IDENTITY_COLUMNS)} from created`
        return toIdentity(row as IdentityRow)
      } catch (error) {
        if (isUniqueViolation(error)) throw new LoginTakenError({ cause: error })
        throw error
      }
    },

    async findByLogin(loginKey) {
      const [row] = await sql<IdentityRow[]>`select ${sql(IDENTITY_COLUMNS)} from attune.identity where login_key = ${loginKey}`
      return row && toIdentity(row)
    },

    async findById(id) {
      const [row] = await sql<IdentityRow[]>`select ${sql(IDENTITY_COLUMNS)} from attune.identity where id = ${id}`
      return row && toIdentity(row)
    },

    async rehashPassword(id, credentialsVersion, passwordHash) {
      const result = await sql`
        update attune.identity
        set password_hash = ${passwordHash}, updated = now()
        where id = ${id} and credentials_version = ${credentialsVersion}`
      return result.count === 1
    },
  }
}
