/**
 * Argon2id at each of OWASP's equal-strength rows (p = 1, 32-byte hash, 16-byte salt):
 * - hash-wasm's `argon2id()` called afresh each time, as lib/passwords/hashing.ts did before lib/passwords/argon2id.ts (a new WASM
 *   instance, a fresh memory grown to m KiB and new BLAKE2b instances on every call);
 * - lib/passwords/argon2id.ts: hash-wasm's own WASM with the instance, its memory and the BLAKE2b hashers reused across
 *   calls (what lib/passwords/hashing.ts runs at ARGON2_PARAMS in a warm Lambda);
 * - @node-rs/argon2 (native, dev-only) at the same parameters.
 * Before the benchmarks it prints where hash-wasm's time goes: first calls in fresh Node processes
 * (module compilation, WASM tier-up) and what a fresh memory of m KiB costs on its own.
 */

import { randomBytes } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { argon2id } from 'hash-wasm'
import { bench, describe } from 'vitest'
import { functionBundleOptions } from '../../infra/bundle.js'
import { createArgon2id } from '../../lib/passwords/argon2id.js'
import { ARGON2_PARAMS } from '../../lib/passwords/hashing.js'
import { fixed, interleaved, markdownTable, median, ratio, recordGoals, runNode, WasmMemoryJs } from './support.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** OWASP Password Storage Cheat Sheet, Argon2id rows of equal strength (memory in KiB). */
export const OWASP_ROWS = [
  { label: '46 MiB, t=1', memorySize: 47104, iterations: 1 },
  { label: '19 MiB, t=2', memorySize: 19456, iterations: 2 },
  { label: '12 MiB, t=3', memorySize: 12288, iterations: 3 },
  { label: '9 MiB, t=4', memorySize: 9216, iterations: 4 },
  { label: '7 MiB, t=5', memorySize: 7168, iterations: 5 },
] as const

type NativeOptions = { algorithm: number; memoryCost: number; timeCost: number; parallelism: number; outputLen: number; salt: Uint8Array }
interface NativeArgon2 {
  /** On libuv's thread pool, as the library is usually called. */
  hashRaw(password: string, options: NativeOptions): Promise<Uint8Array>
  /** On the calling thread, as lib/passwords/argon2id.ts runs: the like-for-like comparison. */
  hashRawSync(password: string, options: NativeOptions): Uint8Array
}

/** @node-rs/argon2 is a dev-only dependency: without it the native column reads n/a. */
async function loadNative(): Promise<NativeArgon2 | undefined> {
  const name = '@node-rs/argon2'
  try {
    return (await import(name)) as NativeArgon2
  } catch {
    console.warn('@node-rs/argon2 is not installed: the native column is skipped (npm install to add the dev dependency)')
    return undefined
  }
}

const native = await loadNative()
const PASSWORD = 'correct horse battery staple'
const PASSWORD_BYTES = new TextEncoder().encode(PASSWORD)
const salt = (): Uint8Array => randomBytes(16)
const current = { memorySize: ARGON2_PARAMS.memorySize, iterations: ARGON2_PARAMS.iterations }
const isCurrent = (row: { memorySize: number; iterations: number }): boolean =>
  row.memorySize === current.memorySize && row.iterations === current.iterations

const hashWasm = (memorySize: number, iterations: number): Promise<Uint8Array> =>
  argon2id({ password: PASSWORD, salt: salt(), memorySize, iterations, parallelism: 1, hashLength: 32, outputType: 'binary' })

// ---- Where hash-wasm's time goes, 1: first calls in fresh Node processes (a cold Lambda's first login).
const FRESH_PROCESS = `
const importStarted = performance.now()
const { argon2id } = await import('hash-wasm')
const importMs = performance.now() - importStarted
const salt = new Uint8Array(16).fill(7)
const run = async (memorySize, iterations) => {
  const started = performance.now()
  await argon2id({ password: 'correct horse battery staple', salt, memorySize, iterations, parallelism: 1, hashLength: 32, outputType: 'binary' })
  return performance.now() - started
}
const [m, t] = process.argv.slice(1).map(Number)
const firstTiny = await run(8, 1)
const warmTiny = (await run(8, 1), await run(8, 1), await run(8, 1))
const firstRow = await run(m, t)
const warmRow = []
for (let i = 0; i < 5; i++) warmRow.push(await run(m, t))
console.log(JSON.stringify({ importMs, firstTiny, warmTiny, firstRow, warmRow }))
`
/** The first hash a fresh process computes, with nothing before it: a cold Lambda's first login. */
const COLD_DIRECT = `
const { argon2id } = await import('hash-wasm')
const [m, t] = process.argv.slice(1).map(Number)
const started = performance.now()
await argon2id({ password: 'correct horse battery staple', salt: new Uint8Array(16).fill(7), memorySize: m, iterations: t, parallelism: 1, hashLength: 32, outputType: 'binary' })
console.log(JSON.stringify({ coldFirst: performance.now() - started }))
`
/**
 * The same with lib/passwords/argon2id.ts, bundled as the functions are (plain Node, no TypeScript loader whose own start-up
 * work would run at the first await): creating the instance (module compilation included), then its first hash.
 */
const libBundleDir = mkdtempSync(join(tmpdir(), 'attune-auth-argon2-'))
await build({
  ...functionBundleOptions(),
  stdin: {
    contents: "export { createArgon2id } from './lib/passwords/argon2id.js'",
    resolveDir: ROOT,
    loader: 'ts',
    sourcefile: 'argon2id-entry.ts',
  },
  outfile: join(libBundleDir, 'argon2id.mjs'),
  logLevel: 'silent',
})
const COLD_LIB = `
const { createArgon2id } = await import(${JSON.stringify(pathToFileURL(join(libBundleDir, 'argon2id.mjs')).href)})
const [m, t] = process.argv.slice(1).map(Number)
const started = performance.now()
const argon2 = await createArgon2id({ memorySize: m, iterations: t, parallelism: 1, hashLength: 32 })
const created = performance.now() - started
argon2.hash(new TextEncoder().encode('correct horse battery staple'), new Uint8Array(16).fill(7))
console.log(JSON.stringify({ created, libFirst: performance.now() - started }))
`
const PROCESSES = 5
/** The former default (19 MiB, t=2) and ARGON2_PARAMS' row. */
const coldRows = OWASP_ROWS.filter((row) => row.memorySize === 19456 || isCurrent(row))
const coldTable: string[][] = []
for (const row of coldRows) {
  const runs: { importMs: number; firstTiny: number; warmTiny: number; firstRow: number; warmRow: number[] }[] = []
  const direct: number[] = []
  const lib: { created: number; libFirst: number }[] = []
  for (let i = 0; i < PROCESSES; i++) {
    runs.push(
      JSON.parse(
        await runNode(['--input-type=module', '-e', FRESH_PROCESS, String(row.memorySize), String(row.iterations)], { cwd: ROOT }),
      ),
    )
    direct.push(
      JSON.parse(await runNode(['--input-type=module', '-e', COLD_DIRECT, String(row.memorySize), String(row.iterations)], { cwd: ROOT }))
        .coldFirst,
    )
    lib.push(
      JSON.parse(
        await runNode(['--input-type=module', '-e', COLD_LIB, String(row.memorySize), String(row.iterations)], {
          cwd: ROOT,
        }),
      ),
    )
  }
  const m = (pick: (r: (typeof runs)[number]) => number): number => median(runs.map(pick))
  const warm = m((r) => median(r.warmRow))
  coldTable.push([
    row.label,
    fixed(m((r) => r.importMs)),
    fixed(median(direct)),
    fixed(median(lib.map((r) => r.libFirst))),
    fixed(median(lib.map((r) => r.created))),
    fixed(m((r) => r.firstTiny - r.warmTiny)),
    fixed(
      m((r) => r.warmTiny),
      2,
    ),
    fixed(m((r) => r.firstRow - median(r.warmRow))),
    fixed(warm),
  ])
}
console.log(
  markdownTable(
    `Argon2id (hash-wasm), first calls in a fresh Node process (median of ${PROCESSES} processes, ms)`,
    [
      'row',
      "import('hash-wasm')",
      'first hash of a fresh process',
      'lib/passwords/argon2id.ts: create + first hash of a fresh process',
      'of which create (compile, instantiate, grow, BLAKE2b)',
      'WASM compile + first instantiation (first m=8 call − warm m=8 call)',
      'per-call instantiation: warm m=8,t=1 call',
      'first row call after that − warm (WASM tier-up)',
      'warm call',
    ],
    coldTable,
  ),
)

// ---- Where hash-wasm's time goes, 2: a fresh WebAssembly memory of m KiB, grown and touched once (no hashing).
function freshMemoryMs(kib: number): number {
  const times: number[] = []
  for (let i = 0; i < 7; i++) {
    const started = performance.now()
    const memory = new WasmMemoryJs({ initial: 2, maximum: 65536 })
    memory.grow(Math.ceil((kib * 1024 + 1024) / 65536))
    const bytes = new Uint8Array(memory.buffer)
    for (let at = 0; at < bytes.length; at += 4096) bytes[at] = 1
    times.push(performance.now() - started)
  }
  return median(times)
}
const freshMemory = new Map(OWASP_ROWS.map((row) => [row.label, freshMemoryMs(row.memorySize)]))

// ---- Per hash, warm: every row and implementation in interleaved rounds (the summary table), then one
// vitest benchmark group per row (vitest's tables, each case measured in a block of its own).
const ROUNDS = 12
const names = (label: string) => ({
  wasm: `hash-wasm argon2id(), fresh each call (lib before) — ${label}`,
  reused: `lib/passwords/argon2id.ts, instance + memory reused — ${label}`,
  native: `@node-rs/argon2 (native) hashRawSync — ${label}`,
  nativeAsync: `@node-rs/argon2 (native) hashRaw, async — ${label}`,
})
const cases: Record<string, () => unknown> = {}
for (const row of OWASP_ROWS) {
  const reusable = await createArgon2id({ memorySize: row.memorySize, iterations: row.iterations, parallelism: 1, hashLength: 32 })
  // The reused instance must compute exactly what hash-wasm computes, on its first call and on later ones.
  for (let i = 0; i < 2; i++) {
    const check = salt()
    const expected = await argon2id({
      password: PASSWORD,
      salt: check,
      memorySize: row.memorySize,
      iterations: row.iterations,
      parallelism: 1,
      hashLength: 32,
      outputType: 'hex',
    })
    if (Buffer.from(reusable.hash(PASSWORD_BYTES, check)).toString('hex') !== expected)
      throw new Error(`lib/passwords/argon2id.ts differs from hash-wasm at ${row.label} (call ${i + 1})`)
  }
  const n = names(row.label)
  cases[n.wasm] = () => hashWasm(row.memorySize, row.iterations)
  cases[n.reused] = () => reusable.hash(PASSWORD_BYTES, salt())
  if (native) {
    const lib = native
    const options = (): NativeOptions => ({
      algorithm: 2, // Argon2id
      memoryCost: row.memorySize,
      timeCost: row.iterations,
      parallelism: 1,
      outputLen: 32,
      salt: salt(),
    })
    cases[n.native] = () => lib.hashRawSync(PASSWORD, options())
    cases[n.nativeAsync] = () => lib.hashRaw(PASSWORD, options())
  }
}
const times = await interleaved(cases, ROUNDS)
const med = (name: string): number => median(times.get(name) ?? [])
/** The row lib/passwords/hashing.ts would hash fastest as its default: on the reused instance (lib/passwords/argon2id.ts). */
const fastest = Math.min(...OWASP_ROWS.map((row) => med(names(row.label).reused)))
console.log(
  markdownTable(
    `Argon2id per hash, warm, median ms (${ROUNDS} interleaved rounds)`,
    [
      'OWASP row (p=1)',
      'hash-wasm argon2id(), fresh each call (lib before)',
      'hash-wasm, fastest run',
      'lib/passwords/argon2id.ts, instance reused (lib now)',
      'saved by reuse',
      '@node-rs/argon2 sync',
      '@node-rs/argon2 async',
      'lib before / native sync',
      'lib now / native sync',
      'lib now / native async',
      'fresh WASM memory alone (grow + touch)',
    ],
    OWASP_ROWS.map((row) => {
      const n = names(row.label)
      const wasm = med(n.wasm)
      const reused = med(n.reused)
      const nat = med(n.native)
      const natAsync = med(n.nativeAsync)
      return [
        `${row.label}${isCurrent(row) ? ' (ARGON2_PARAMS)' : ''}${reused === fastest ? ' **fastest**' : ''}`,
        fixed(wasm),
        fixed(Math.min(...(times.get(n.wasm) ?? []))),
        fixed(reused),
        fixed(wasm - reused),
        fixed(nat),
        fixed(natAsync),
        ratio(wasm, nat),
        ratio(reused, nat),
        ratio(reused, natAsync),
        fixed(freshMemory.get(row.label) ?? Number.NaN),
      ]
    }),
  ),
)
const fastestRow = OWASP_ROWS.find((row) => med(names(row.label).reused) === fastest)
console.log(
  fastestRow && isCurrent(fastestRow)
    ? `ARGON2_PARAMS (${fastestRow.label}) is the fastest OWASP row for lib/passwords/argon2id.ts in this run.`
    : `In this run the fastest OWASP row for lib/passwords/argon2id.ts is ${fastestRow?.label}, not ARGON2_PARAMS (m=${current.memorySize}, t=${current.iterations}): compare several runs on a quiet machine before changing the default.`,
)
const defaultRow = OWASP_ROWS.find(isCurrent)
const defaultNames = defaultRow ? names(defaultRow.label) : undefined
const toNative = defaultNames ? med(defaultNames.reused) / med(defaultNames.native) : Number.NaN
recordGoals('argon2', [
  {
    goal: 'Argon2id (hash-wasm) within 2x of native, at the default row',
    measured: defaultNames
      ? `${fixed(med(defaultNames.reused))} vs ${fixed(med(defaultNames.native))} ms: ${ratio(med(defaultNames.reused), med(defaultNames.native))} of native sync, ${ratio(med(defaultNames.reused), med(defaultNames.nativeAsync))} of native async (before reuse: ${ratio(med(defaultNames.wasm), med(defaultNames.native))} of native sync)`
      : 'n/a',
    met: Number.isFinite(toNative) ? toNative <= 2 : undefined,
  },
  {
    goal: 'the default (ARGON2_PARAMS) is the fastest OWASP row for hash-wasm',
    measured: `fastest in this run: ${fastestRow?.label} (${fixed(fastest)} ms)`,
    met: fastestRow !== undefined && isCurrent(fastestRow),
  },
])

const OPTIONS = { time: 0, iterations: 8, warmupTime: 0, warmupIterations: 2 }
for (const row of OWASP_ROWS) {
  const n = names(row.label)
  describe(`Argon2id ${row.label}, p=1${isCurrent(row) ? ' (ARGON2_PARAMS)' : ''}`, () => {
    for (const name of [n.wasm, n.reused, n.native, n.nativeAsync]) {
      const run = cases[name]
      if (run) bench(name, async () => void (await run()), OPTIONS)
    }
  })
}
