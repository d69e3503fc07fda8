/**
 * The conformance suite (tests/conformance/checks.ts, run by infra/conformance.ts) against a server that answers
 * `200 {}` to everything: it fails, in process and as the command (`node --import tsx infra/conformance.ts`, exit
 * code 1), so the suite can tell. That it passes against `npm start` is tests/e2e/local-server.test.ts's (on its
 * server: a third `npm start` beside the other e2e file's would only slow both on a small machine).
 */
import { spawn } from 'node:child_process'
import type { Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runConformance } from '../../infra/conformance.js'
import { CHECKS } from '../conformance/checks.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

describe('the conformance suite against something that is not Attune Auth', () => {
  let impostor: Server | undefined
  let url = ''

  beforeAll(async () => {
    impostor = createServer((request, response) => {
      request.resume()
      response.writeHead(200, { 'Content-Type': 'application/json' }).end('{}')
    })
    await new Promise<void>((resolve) => impostor?.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>((resolve) => (impostor ? impostor.close(() => resolve()) : resolve())))

  it('fails (a server answering 200 {} to everything passes no check but the skipped ones)', async () => {
    const lines: string[] = []
    const outcome = await runConformance({ baseUrl: url, print: (line) => lines.push(line) })
    expect(outcome.failed).toBeGreaterThan(0)
    expect(outcome.passed).toBe(0)
    expect(lines.at(-1)).toBe(`0 passed, ${outcome.failed} failed`)
    expect(lines).toContain(`✗ ${CHECKS[0]?.name} (${outcome.results[0]?.ms} ms)`)
    expect(lines.join('\n')).toMatch(/ {4}expected: HTTP 401 .*\n {4}actual: {3}HTTP 200 \{\}/)
  })

  it('exits 1 as the command, with the summary line last', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/conformance.ts', '--base-url', url], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve))
    expect(code).toBe(1)
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^0 passed, [1-9]\d* failed$/)
  }, 30_000)

  it('exits 2 without --base-url', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/conformance.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    expect(await new Promise<number | null>((resolve) => child.once('close', resolve))).toBe(2)
    expect(stderr).toContain('--base-url is required')
  }, 30_000)
})
