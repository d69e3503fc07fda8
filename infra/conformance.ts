/**
 * `npm run conformance -- --base-url https://<api-id>.execute-api.<region>.amazonaws.com/<stage>`: the black-box
 * conformance suite (tests/conformance/checks.ts) over HTTP against any deployment of Attune Auth, or `npm start`
 * (`--base-url http://localhost:8080`). Plain Node and fetch, no test framework: it runs anywhere with
 * `node --import tsx infra/conformance.ts --base-url …`.
 *
 * Options:
 *   --base-url <url>        the API, with its stage (required)
 *   --protected-url <url>   a GET route of another API behind our authorizer: 200 with our token, 401 without
 *   --refresh-grace <s>     the stage's JWT_REFRESH_REUSE_GRACE (default 5): the replay check waits it out
 *   --timeout <ms>          per request (default 30000)
 *
 * Each check is printed with ✓ or ✗ (and, on failure, what was expected and what came back, never a token or a
 * password), then the summary line `N passed, N failed`. Exit code 0 when every check passed, 1 when one failed,
 * 2 for wrong arguments.
 *
 * It creates one account per run, `conformance-<random>-user`, and ends every session it opened; the account
 * itself stays, as the API has no endpoint that deletes one (the run says so). It stays far below the abuse
 * defences: see tests/conformance/checks.ts.
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { Check, ConformanceOptions } from '../tests/conformance/checks.js'
import { CHECKS, createContext, DEFAULT_REFRESH_GRACE_SECONDS, DEFAULT_TIMEOUT_MS } from '../tests/conformance/checks.js'
import { CheckFailure, CheckSkipped } from '../tests/conformance/http.js'

export interface CheckResult {
  name: string
  status: 'passed' | 'failed' | 'skipped'
  /** Why it failed or was skipped (redacted). */
  message?: string
  expected?: string
  actual?: string
  ms: number
}

export interface ConformanceOutcome {
  passed: number
  failed: number
  skipped: number
  results: CheckResult[]
}

export interface RunOptions extends ConformanceOptions {
  /** The checks to run, in order (default: all of them). */
  checks?: readonly Check[]
  /** Where each line goes (default: console.log). */
  print?: (line: string) => void
}

/** Runs the checks in order against `baseUrl`, printing each as it ends and the summary line last. */
export async function runConformance(options: RunOptions): Promise<ConformanceOutcome> {
  const print = options.print ?? ((line: string) => console.log(line))
  const context = createContext(options)
  const results: CheckResult[] = []
  print(`Attune Auth conformance: ${context.client.baseUrl}${options.protectedUrl ? ` (and ${options.protectedUrl})` : ''}`)
  print(`account of this run: ${context.login} (there is no account deletion endpoint: it stays, with every session ended)`)
  for (const check of options.checks ?? CHECKS) {
    const started = performance.now()
    let result: CheckResult
    try {
      await check.run(context)
      result = { name: check.name, status: 'passed', ms: 0 }
    } catch (error) {
      if (error instanceof CheckSkipped) result = { name: check.name, status: 'skipped', message: error.message, ms: 0 }
      else if (error instanceof CheckFailure) {
        result = {
          name: check.name,
          status: 'failed',
          message: context.client.redact(error.message),
          ...(error.expected === undefined ? {} : { expected: context.client.redact(error.expected) }),
          ...(error.actual === undefined ? {} : { actual: context.client.redact(error.actual) }),
          ms: 0,
        }
      } else {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
        result = { name: check.name, status: 'failed', message: context.client.redact(`unexpected error: ${message}`), ms: 0 }
      }
    }
    result.ms = Math.round(performance.now() - started)
    results.push(result)
    printResult(print, result)
  }
  for (const note of context.notes) print(note)
  const count = (status: CheckResult['status']): number => results.filter((r) => r.status === status).length
  const outcome = { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), results }
  if (outcome.skipped > 0) print(`${outcome.skipped} skipped`)
  print(`${outcome.passed} passed, ${outcome.failed} failed`)
  return outcome
}

function printResult(print: (line: string) => void, result: CheckResult): void {
  if (result.status === 'passed') print(`✓ ${result.name} (${result.ms} ms)`)
  else if (result.status === 'skipped') print(`- ${result.name} (skipped: ${result.message})`)
  else {
    print(`✗ ${result.name} (${result.ms} ms)`)
    if (result.message) print(`    ${result.message}`)
    if (result.expected !== undefined) print(`    expected: ${result.expected}`)
    if (result.actual !== undefined) print(`    actual:   ${result.actual}`)
  }
}

const USAGE =
  'usage: npm run conformance -- --base-url <https://api/stage> [--protected-url <url>] [--refresh-grace <seconds>] [--timeout <ms>]'

/** The options of a command line, or an error message. */
export function parseConformanceArgs(args: readonly string[]): ConformanceOptions | string {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      options: {
        'base-url': { type: 'string' },
        'protected-url': { type: 'string' },
        'refresh-grace': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (error) {
    return `${error instanceof Error ? error.message : String(error)}\n${USAGE}`
  }
  if (values['help']) return USAGE
  const url = (name: string): string | undefined | Error => {
    const value = values[name]
    if (typeof value !== 'string') return undefined
    try {
      const parsed = new URL(value.trim())
      if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return parsed.href.replace(/\/+$/, '')
    } catch {}
    return new Error(`--${name} must be an http(s) URL, not ${JSON.stringify(value)}`)
  }
  const number = (name: string, fallback: number): number | Error => {
    const value = values[name]
    if (typeof value !== 'string') return fallback
    return /^\d+$/.test(value) ? Number(value) : new Error(`--${name} must be a whole number, not ${JSON.stringify(value)}`)
  }
  const baseUrl = url('base-url')
  const protectedUrl = url('protected-url')
  const refreshGraceSeconds = number('refresh-grace', DEFAULT_REFRESH_GRACE_SECONDS)
  const timeoutMs = number('timeout', DEFAULT_TIMEOUT_MS)
  for (const value of [baseUrl, protectedUrl, refreshGraceSeconds, timeoutMs])
    if (value instanceof Error) return `${value.message}\n${USAGE}`
  if (typeof baseUrl !== 'string') return `--base-url is required\n${USAGE}`
  return {
    baseUrl,
    protectedUrl: protectedUrl as string | undefined,
    refreshGraceSeconds: refreshGraceSeconds as number,
    timeoutMs: timeoutMs as number,
  }
}

async function main(args: readonly string[]): Promise<number> {
  const options = parseConformanceArgs(args)
  if (typeof options === 'string') {
    console.error(options)
    return args.includes('--help') || args.includes('-h') ? 0 : 2
  }
  const outcome = await runConformance(options)
  return outcome.failed === 0 ? 0 : 1
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      console.error(error)
      process.exitCode = 1
    },
  )
}
