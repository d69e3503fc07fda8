/**
 * Every function's bundle, built with esbuild exactly as serverless.yml builds it (infra/bundle.ts):
 * minified and gzip size against its budget, the npm packages that make it up (esbuild metafile), and its
 * cold `import()` time in fresh Node processes. Then what each main dependency costs alone.
 * tests/packaging/bundles.test.ts holds the same sizes to their budgets in CI.
 */

import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { bench, describe } from 'vitest'
import {
  budgetKb,
  bytesByPackage,
  COLD_IMPORT_GOAL_MS,
  functionBuildOptions,
  functionBundleOptions,
  functionEntries,
  goalKb,
  ROOT,
} from '../../infra/bundle.js'
import { fixed, markdownTable, median, recordGoals, runNode } from './support.js'

const out = mkdtempSync(join(tmpdir(), 'attune-auth-bundles-'))
const PROCESSES = 9
const kb = (bytes: number): string => (bytes / 1024).toFixed(1)

/** One cold `import()` of an ES module in a fresh Node process (the process start itself not included), in ms. */
async function importOnceMs(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(performance.now() - t)`
  return Number(await runNode(['--input-type=module', '-e', script], { cwd: out }))
}

/**
 * Median cold `import()` of each file over PROCESSES fresh processes, the files taking turns (one process
 * each per round), so a burst of load from elsewhere slows all of them alike rather than one.
 */
async function coldImportMs(files: readonly string[]): Promise<number[]> {
  const times = files.map((): number[] => [])
  for (let round = 0; round < PROCESSES; round++) {
    for (const [i, file] of files.entries()) times[i]?.push(await importOnceMs(file))
  }
  return times.map((t) => median(t))
}

// ---- Each function, as deployed.
const built: { name: string; file: string; bytes: Buffer; top: string }[] = []
for (const { name, entry } of functionEntries()) {
  const result = await build(functionBuildOptions(entry, out))
  const file = join(out, `${name}.mjs`)
  const top = [...bytesByPackage(result.metafile)]
    .slice(0, 6)
    .map(([pkg, size]) => `${pkg} ${kb(size)}`)
    .join(', ')
  built.push({ name, file, bytes: readFileSync(file), top })
}
const importTimes = await coldImportMs(built.map((b) => b.file))
const rows: string[][] = []
const measured: { name: string; kb: number; goal: number; importMs: number }[] = []
for (const [i, { name, bytes, top }] of built.entries()) {
  const budget = budgetKb(name)
  const goal = goalKb(name)
  const importMs = importTimes[i] as number
  measured.push({ name, kb: bytes.length / 1024, goal, importMs })
  rows.push([
    name,
    kb(bytes.length),
    kb(gzipSync(bytes).length),
    `${goal}${budget !== goal ? ` (test: ${budget})` : ''}`,
    bytes.length <= goal * 1024 ? 'yes' : 'no',
    fixed(importMs),
    importMs <= COLD_IMPORT_GOAL_MS ? 'yes' : 'no',
    top,
  ])
}
console.log(
  markdownTable(
    `Function bundles (esbuild ${(await import('esbuild')).version}, serverless.yml options) and cold import() (median of ${PROCESSES} fresh processes)`,
    [
      'function',
      'minified KB',
      'gzip KB',
      'goal KB',
      'within goal',
      'cold import ms',
      `≤ ${COLD_IMPORT_GOAL_MS} ms`,
      'largest parts (KB in the bundle)',
    ],
    rows,
  ),
)

const authorizer = measured.find((m) => m.name === 'authorizer')
const others = measured.filter((m) => m.name !== 'authorizer')
const over = others.filter((m) => m.kb > m.goal)
const slowest = measured.reduce((a, b) => (b.importMs > a.importMs ? b : a))
recordGoals('bundles', [
  {
    goal: `authorizer bundle ≤ ${authorizer?.goal} KB minified`,
    measured: `${authorizer?.kb.toFixed(1)} KB`,
    met: authorizer !== undefined && authorizer.kb <= authorizer.goal,
  },
  {
    goal: 'every other function ≤ 100 KB minified',
    measured: over.length
      ? `over: ${over.map((m) => `${m.name} ${m.kb.toFixed(1)}`).join(', ')}`
      : `largest ${Math.max(...others.map((m) => m.kb)).toFixed(1)} KB`,
    met: over.length === 0,
  },
  {
    goal: `cold import() ≤ ${COLD_IMPORT_GOAL_MS} ms, every function`,
    measured: `${Math.min(...measured.map((m) => m.importMs)).toFixed(1)}–${slowest.importMs.toFixed(1)} ms (slowest: ${slowest.name})`,
    met: slowest.importMs <= COLD_IMPORT_GOAL_MS,
  },
])

// ---- Each main dependency alone, bundled the same way.
const ALONE: Record<string, string> = {
  '(empty: the banner only — the fixed cost of any import)': 'export {}',
  postgres: "export { default } from 'postgres'",
  'lib/log.ts (our JSON logger)': "export { logger } from './lib/log.js'",
  'jose (jwtVerify + SignJWT)': "export { jwtVerify, SignJWT, errors } from 'jose'",
  'jose (jwtVerify only)': "export { jwtVerify, errors } from 'jose'",
  'valibot (lib/config.ts)': "export { loadConfig } from './lib/config.js'",
  "hash-wasm's argon2id() (what lib used before lib/passwords/argon2id.ts)": "export { argon2id } from 'hash-wasm'",
  "lib/passwords/argon2id.ts (hash-wasm's Argon2 binary, vendored, and its BLAKE2b)":
    "export { createArgon2id } from './lib/passwords/argon2id.js'",
  '@middy/core + header-normalizer':
    "export { default as middy } from '@middy/core'; export { default as normalizer } from '@middy/http-header-normalizer'",
}
const aloneFiles: string[] = []
for (const contents of Object.values(ALONE)) {
  const file = join(out, `alone-${aloneFiles.length}.mjs`)
  await build({
    ...functionBundleOptions(),
    stdin: { contents, resolveDir: ROOT, loader: 'ts', sourcefile: `alone-${aloneFiles.length}.ts` },
    outfile: file,
    logLevel: 'silent',
  })
  aloneFiles.push(file)
}
const aloneTimes = await coldImportMs(aloneFiles)
const aloneRows = Object.keys(ALONE).map((label, i) => [
  label,
  kb(readFileSync(aloneFiles[i] as string).length),
  fixed(aloneTimes[i] as number),
])

console.log(
  markdownTable('What the dependencies cost, each bundled alone the same way', ['bundle', 'minified KB', 'cold import ms'], aloneRows),
)

// ---- Process start + import, as vitest benchmarks (includes Node's own start-up, which the table above leaves out).
const nodeWith = (script: string) => () => {
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: out })
  if (result.status !== 0) throw new Error(String(result.stderr))
}
const OPTIONS = { time: 0, iterations: 10, warmupTime: 0, warmupIterations: 1 }
const IMPORTED = ['authorizer', 'login', 'me']
describe('fresh Node process: start, then import() the bundle', () => {
  bench('node (start only)', nodeWith(''), OPTIONS)
  for (const name of IMPORTED) {
    const last = name === IMPORTED[IMPORTED.length - 1]
    bench(`node + import(${name}.mjs)`, nodeWith(`await import(${JSON.stringify(pathToFileURL(join(out, `${name}.mjs`)).href)})`), {
      ...OPTIONS,
      // vitest's benchmark runner runs no afterAll hooks: the last benchmark removes the bundles.
      ...(last
        ? { teardown: (_task: unknown, mode: string) => void (mode === 'run' && rmSync(out, { recursive: true, force: true })) }
        : {}),
    })
  }
})
