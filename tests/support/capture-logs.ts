/**
 * Captures everything the process writes to stdout and stderr, line by line: the logger's JSON lines
 * (lib/log.ts writes through `process.stdout.write`; a logger printing through `console` or its own
 * `new Console({ stdout: process.stdout, stderr: process.stderr })` ends up
 * in the same `write` calls), and anything else a dependency prints.
 *
 * Patches `write` directly rather than with vi.spyOn, so vitest's `restoreMocks` does not undo it
 * between tests; call `stop()` to restore the streams.
 */

import { setLogLevel } from '../../lib/log.js'

export interface LogLine {
  stream: 'stdout' | 'stderr'
  text: string
  /** The line parsed as JSON, when it is JSON. */
  json: Record<string, unknown> | undefined
}

export interface CapturedLogs {
  /** Every complete line written so far. */
  readonly lines: LogLine[]
  /** The lines that parsed as JSON objects. */
  entries(): Array<Record<string, unknown>>
  clear(): void
  stop(): void
}

type Write = typeof process.stdout.write

export function captureLogs(options: { passThrough?: boolean } = {}): CapturedLogs {
  const lines: LogLine[] = []
  const streams = [
    ['stdout', process.stdout],
    ['stderr', process.stderr],
  ] as const
  const originals = new Map<NodeJS.WriteStream, Write>()
  const pending = { stdout: '', stderr: '' }

  for (const [name, stream] of streams) {
    const original = stream.write
    originals.set(stream, original)
    const patched = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk)
      const parts = (pending[name] + text).split('\n')
      pending[name] = parts.pop() ?? ''
      for (const line of parts) if (line.length > 0) lines.push({ stream: name, text: line, json: parseObject(line) })
      if (options.passThrough) return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest)
      const callback = rest.find((arg): arg is () => void => typeof arg === 'function')
      callback?.()
      return true
    }
    stream.write = patched as Write
  }

  return {
    lines,
    entries: () => lines.flatMap((line) => (line.json ? [line.json] : [])),
    clear: () => {
      lines.length = 0
    },
    stop: () => {
      for (const [name, stream] of streams) {
        const original = originals.get(stream)
        if (original) stream.write = original
        if (pending[name].length > 0) lines.push({ stream: name, text: pending[name], json: parseObject(pending[name]) })
        pending[name] = ''
      }
    },
  }
}

function parseObject(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line)
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Runs `action` with the logger at `info` (tests run it silent), answering its result and the JSON entries it logged. */
export async function withInfoLogs<T>(action: () => Promise<T>): Promise<{ result: T; entries: Array<Record<string, unknown>> }> {
  const logs = captureLogs()
  setLogLevel('info')
  try {
    const result = await action()
    return { result, entries: logs.entries() }
  } finally {
    setLogLevel('silent')
    logs.stop()
  }
}
