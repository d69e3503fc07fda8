/**
 * The identity repository: the seed's `attune.identity` table.
 * A taken login is detected by the unique index on lower(login), never by check-then-insert.
 */
import type { Sql } from './client.js'
import { isUniqueViolation } from './client.js'
import type { NewSession } from './sessions.js'

export interface Identity {
  id: number
  login: string
  displayName: string | null
  passwordHash: string | null
}

export interface NewIdentity {
  login: string
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
   * Inserts an identity and its first session in one statement (both or neither); throws
   * LoginTakenError when the login exists in any letter case.
   */
  create(identity: NewIdentity, session: Omit<NewSession, 'identityId'>): Promise<Identity>
  findByLogin(login: string): Promise<Identity | undefined>
  findById(id: number): Promise<Identity | undefined>
  /** Replaces the password hash; false when the identity no longer exists. */
  updatePasswordHash(id: number, passwordHash: string): Promise<boolean>
}

interface IdentityRow {
  id: string
  login: string
  display_name: string | null
  password_hash: string | null
}

const toIdentity = (row: IdentityRow): Identity => ({
  // bigserial arrives as a string; ids stay far below 2^53 in practice, and the API promises a JSON number.
  id: Number(row.id),
  login: row.login,
  displayName: row.display_name,
  passwordHash: row.password_hash,
})

export function createIdentityRepository(sql: Sql): IdentityRepository {
  return {
    async create(identity, session) {
      try {
        const [row] = await sql<IdentityRow[]>`
          with created as (
            insert into attune.identity (login, display_name, password_hash)
            values (${identity.login}, ${identity.displayName}, ${identity.passwordHash})
            returning id, login, display_name, password_hash
          ), opened as (
            insert into attune.session (id, identity_id, refresh_jti, refresh_iat, user_agent, source_ip, expires)
            select ${session.id}, created.id, ${session.refreshTokenId}, ${session.refreshIssuedAt}, ${session.userAgent},
                   ${session.sourceIp}, now() + make_interval(secs => ${session.lifetime})
            from created
          )
          select id, login, display_name, password_hash from created`
        return toIdentity(row as IdentityRow)
      } catch (error) {
        if (isUniqueViolation(error)) throw new LoginTakenError({ cause: error })
        throw error
      }
    },

    async findByLogin(login) {
      const [row] = await sql<IdentityRow[]>`
        select id, login, display_name, password_hash
        from attune.identity
        where lower(login) = lower(${login})`
      return row && toIdentity(row)
    },

    async findById(id) {
      const [row] = await sql<IdentityRow[]>`
        select id, login, display_name, password_hash
        from attune.identity
        where id = ${id}`
      return row && toIdentity(row)
    },

    async updatePasswordHash(id, passwordHash) {
      const result = await sql`
        update attune.identity
        set password_hash = ${passwordHash}, updated = now()
        where id = ${id}`
      return result.count === 1
    },
  }
}
