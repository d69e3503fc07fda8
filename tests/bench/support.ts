/**
 * Helpers for the benchmarks: a `bench()` that also keeps its measured durations (not the warm-up's),
 * so a file can print one summary table with medians and ratios once its last benchmark has run
 * (vitest's benchmark runner runs no afterAll hooks), and markdown tables that paste into docs/PERFORMANCE.md.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchOptions } from 'vitest'
import { bench } from 'vitest'
import type { WasmMemory } from '../../lib/passwords/argon2id.js'

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

/** `1.23` style: 3 significant digits at most, at least `decimals` decimals below 10. */
export function fixed(value: number, decimals = 1): string {
  if (!Number.isFinite(value)) return 'n/a'
  return value.toFixed(Math.abs(value) >= 100 ? 0 : decimals)
}

export const ratio = (a: number, b: number): string =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : 'n/a'

export function markdownTable(title: string, headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`
  return [`\n### ${title}\n`, line(headers), line(headers.map(() => '---')), ...rows.map(line), ''].join('\n')
}

export interface Recorder {
  /** vitest's bench(), keeping the durations of its measured runs under `name`. */
  bench(name: string, fn: () => unknown, options?: BenchOptions): void
  /** Median duration in milliseconds of the runs recorded under `name` (NaN when none). */
  median(name: string): number
  /** Called once, after the measured runs of the last bench registered so far. */
  whenDone(print: () => void): void
}

export function createRecorder(): Recorder {
  const samples = new Map<string, number[]>()
  let recording = false
  let last: string | undefined
  let done: (() => void) | undefined
  return {
    bench(name, fn, options = {}) {
      if (samples.has(name)) throw new Error(`bench name used twice: ${name}`)
      const kept: number[] = []
      samples.set(name, kept)
      last = name
      bench(
        name,
        async () => {
          const started = performance.now()
          await fn()
          if (recording) kept.push(performance.now() - started)
        },
        {
          ...options,
          setup: (_task, mode) => {
            recording = mode === 'run'
          },
          teardown: (_task, mode) => {
            recording = false
            if (mode === 'run' && name === last) done?.()
          },
        },
      )
    },
    median: (name) => median(samples.get(name) ?? []),
    whenDone(print) {
      done = print
    },
  }
}

/**
 * Runs every case once per round, `rounds` times after one warm-up round, in a new shuffled order each round
 * (a fixed-seed shuffle, so runs are comparable): on a shared, noisy machine a burst of load then hits all
 * cases alike, and no case always follows the same one (a case that leaves garbage behind, such as a
 * throwaway 19 MiB Argon2 memory, would otherwise slow whichever case always comes next).
 * Answers each case's durations in milliseconds.
 */
export async function interleaved(cases: Record<string, () => unknown>, rounds: number): Promise<Map<string, number[]>> {
  const names = Object.keys(cases)
  const times = new Map<string, number[]>(names.map((name) => [name, []]))
  let seed = 20_261_129
  const random = (): number => {
    // mulberry32
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  for (let round = -1; round < rounds; round++) {
    const order = [...names]
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[order[i], order[j]] = [order[j] as string, order[i] as string]
    }
    for (const name of order) {
      const started = performance.now()
      await (cases[name] as () => unknown)()
      if (round >= 0) times.get(name)?.push(performance.now() - started)
    }
  }
  return times
}

/** Runs `node <args>` to completion; resolves its stdout (rejects with its stderr on a non-zero exit). */
export function runNode(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`node ${args.join(' ')} exited ${code}: ${err}`))))
  })
}

/** `WebAssembly.Memory` (the project's TypeScript lib has no DOM, hence no WebAssembly types). */
export const WasmMemoryJs = (
  globalThis as unknown as { WebAssembly: { Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory } }
).WebAssembly.Memory

/** One performance goal as one benchmark file measured it: a line of the table `npm run bench` prints last. */
export interface GoalResult {
  goal: string
  measured: string
  /** undefined when the run could not tell (e.g. the native Argon2 is not installed). */
  met: boolean | undefined
}

/** Where each benchmark file leaves its goal results for tests/bench/run.ts (one JSON file per benchmark file). */
export const GOALS_DIR = fileURLToPath(new URL('../../.bench/goals', import.meta.url))

/** Records `results` under `file` (e.g. `argon2`); tests/bench/run.ts prints them after the run, in file order. */
export function recordGoals(file: string, results: readonly GoalResult[]): void {
  mkdirSync(GOALS_DIR, { recursive: true })
  writeFileSync(join(GOALS_DIR, `${file}.json`), JSON.stringify(results))
}
