// Counts one vitest run for .ci/run from its JSON report and exit status.
// Usage: node .ci/summary.mjs <report.json> <exit-code>
// Prints one line: "<passed> <failed> <note>". A run without a readable report counts as 1 failed;
// a run that exited non-zero (or failed a suite) without a failing test also counts as 1 failed,
// so the final "N passed, N failed" line always agrees with the exit status.
import { readFileSync } from 'node:fs'

const [file, codeArg] = process.argv.slice(2)
const code = Number(codeArg ?? 1)

let report
try {
  report = JSON.parse(readFileSync(file, 'utf8'))
} catch {
  console.log(`0 1 no JSON report (exit ${code}): counted as 1 failed`)
  process.exit(0)
}

const passed = Number(report.numPassedTests) || 0
let failed = Number(report.numFailedTests) || 0
const notes = []
if (failed === 0 && (code !== 0 || report.success === false || Number(report.numFailedTestSuites) > 0)) {
  failed = 1
  notes.push(`exit ${code}, ${Number(report.numFailedTestSuites) || 0} failed suite(s), no failing test: counted as 1 failed`)
}
const skipped = (Number(report.numPendingTests) || 0) + (Number(report.numTodoTests) || 0)
if (skipped > 0) notes.push(`${skipped} skipped/todo`)
console.log(`${passed} ${failed} ${notes.join('; ')}`.trimEnd())
