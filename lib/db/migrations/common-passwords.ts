/**
 * Migration 9: loads the password blocklist (infra/migrations/data/common-passwords.txt.gz, see its NOTICE)
 * into `attune.common_password` as digests, 10,000 rows a statement: about a second for 100,000.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import type { TransactionSql } from 'postgres'
import { commonPasswordDigest } from '../../passwords/strength.js'

export const COMMON_PASSWORDS_FILE = join('data', 'common-passwords.txt.gz')

const BATCH = 10_000

/** `dir`: the migrations folder, where the data file ships (the migrate function packs it). */
export async function loadCommonPasswords(sql: TransactionSql, dir: string): Promise<void> {
  const passwords = gunzipSync(readFileSync(join(dir, COMMON_PASSWORDS_FILE)))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
  // The file's entries are folded already; digesting folds again, which changes nothing.
  const digests = [...new Set(passwords.map((password) => commonPasswordDigest(password).toString('hex')))]
  for (let i = 0; i < digests.length; i += BATCH) {
    await sql`
      insert into attune.common_password (digest)
      select decode(d, 'hex') from unnest(${sql.array(digests.slice(i, i + BATCH))}::text[]) as d
      on conflict do nothing`
  }
}
