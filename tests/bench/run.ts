/**
 * `npm run bench`: every benchmark file (vitest bench --run, one process per file, each printing its own
 * tables), then one table of the performance goals (docs/PERFORMANCE.md) from this same run: what each goal asked, what was measured,
 * and whether it was met. Arguments are passed to vitest (e.g. a file name to run one file only).
 */

import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { GoalResult } from './support.js'
import { GOALS_DIR, markdownTable } from './support.js'

rmSync(GOALS_DIR, { recursive: true, force: true })
const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs')
const run = spawnSync(process.execPath, [vitest, 'bench', '--run', ...process.argv.slice(2)], { stdio: 'inherit' })

const files = existsSync(GOALS_DIR)
  ? readdirSync(GOALS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : []
const results = files.flatMap((f) => JSON.parse(readFileSync(join(GOALS_DIR, f), 'utf8')) as GoalResult[])
const met = (m: boolean | undefined): string => (m === undefined ? 'n/a' : m ? 'yes' : 'no')
console.log(
  markdownTable(
    `Performance goals, from this run (${new Date().toISOString().slice(0, 10)}; details in the tables above)`,
    ['goal', 'measured', 'met'],
    results.map((r) => [r.goal, r.measured, met(r.met)]),
  ),
)
console.log(`${results.filter((r) => r.met === true).length} of ${results.length} goals met`)
process.exit(run.status ?? 1)
