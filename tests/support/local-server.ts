/**
 * `npm start` for the e2e tests, as a user runs it: on a free port, with the test run's database
 * (tests/support/global-setup.ts), in a process group of its own (as a terminal gives it), so stopping
 * it stops npm, start.ts and everything under them.
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'
import { freePort } from '../../infra/local/ports.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const READY = /\[attune-auth\] ready in [\d.]+ s: (http:\/\/\S+)/

export interface LocalServer {
  /** npm's pid, which leads the server's process group. */
  pid: number
  url: string
  /** Everything it printed so far, stdout and stderr, in order. */
  output: string[]
  /** Resolves when every process holding npm's output has exited (npm, start.ts). */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  child: ChildProcess
}

/** Starts `npm start` and answers once it says it is ready (or fails with its output after 60 s). */
export async function startLocalServer(env: Record<string, string> = {}): Promise<LocalServer> {
  const port = await freePort()
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its example OpenID provider on a free port too: two servers may start at once.
    env: {
      ...process.env,
      PORT: String(port),
      OIDC_PORT: String(await freePort()),
      DATABASE_URL: inject('databaseUrl'),
      LOG_LEVEL: 'warn',
      ...env,
    },
  })
  const output: string[] = []
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start was not ready in 60 s:\n${output.join('')}`)), 60_000)
    const scan = (chunk: Buffer): void => {
      output.push(chunk.toString('utf8'))
      const ready = READY.exec(output.join(''))
      if (ready?.[1]) {
        clearTimeout(timer)
        resolve(ready[1])
      }
    }
    child.stdout?.on('data', scan)
    child.stderr?.on('data', scan)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`npm start exited (code ${code}) before it was ready:\n${output.join('')}`))
    })
  })
  return { pid: child.pid as number, url, output, closed, child }
}

/** SIGTERM to its process group (SIGKILL after 15 s), and waits until every process is gone. */
export async function stopLocalServer(server: LocalServer | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return
  process.kill(-server.pid, 'SIGTERM')
  const timer = setTimeout(() => process.kill(-server.pid, 'SIGKILL'), 15_000)
  await server.closed
  clearTimeout(timer)
}
