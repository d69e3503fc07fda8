/** The password blocklist in PostgreSQL (`attune.common_password`, loaded by migration 9), asked by digest. */
import type { Sql } from './client.js'

export interface CommonPasswordRepository {
  /** Whether `digest` (lib/passwords/strength.ts `commonPasswordDigest`) is one of a common password. */
  isCommon(digest: Uint8Array): Promise<boolean>
}

export function createCommonPasswordRepository(sql: Sql): CommonPasswordRepository {
  return {
    async isCommon(digest) {
      const [row] = await sql<
        { common: boolean }[]
      >`select exists (select 1 from attune.common_password where digest = ${digest}) as common`
      return row?.common === true
    },
  }
}
