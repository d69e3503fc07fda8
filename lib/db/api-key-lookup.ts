/**
 * The authorizer's one statement for an API key (infra/migrations/00015_service_accounts.sql): the key by its
 * SHA-256, live (not revoked, not expired) and of a service account, with what the authorizer needs beside
 * it (the account's authz_version, the called API's route-requirement version), and `last_used` written at
 * most once a minute in the same statement.
 */
import type { Sql } from './client.js'

export interface KeyState {
  keyId: string
  identityId: number
  /** The service account's login (`service:<name>`). */
  login: string
  scopes: string[]
  authzVersion: number
  requirementsVersion: number
}

export interface ApiKeyLookup {
  find(keyHash: Uint8Array, apiId?: string): Promise<KeyState | undefined>
}

export function createApiKeyLookup(sql: Sql): ApiKeyLookup {
  return {
    async find(keyHash, apiId) {
      const [row] = await sql<
        { id: string; identity_id: string; login: string; scopes: string[]; authz_version: string; requirements_version: string }[]
      >`
        with k as (
          select k.id, k.identity_id, k.scopes, k.last_used, i.login, i.authz_version
          from attune.api_key k join attune.identity i on i.id = k.identity_id
          where k.key_hash = ${Buffer.from(keyHash)} and k.revoked_at is null and k.expires_at > now() and i.kind = 'service'
            and i.suspended_at is null
        ), touched as (
          update attune.api_key t set last_used = now()
          from k where t.id = k.id and (k.last_used is null or k.last_used < now() - interval '1 minute')
        )
        select k.id, k.identity_id, k.scopes, k.login, k.authz_version,
               coalesce((select version from attune.route_requirement_api where api_id = ${apiId ?? null}::text), 0) as requirements_version
        from k`
      return (
        row && {
          keyId: row.id,
          identityId: Number(row.identity_id),
          login: row.login,
          scopes: row.scopes,
          authzVersion: Number(row.authz_version),
          requirementsVersion: Number(row.requirements_version),
        }
      )
    },
  }
}
