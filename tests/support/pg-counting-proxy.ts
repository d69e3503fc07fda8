/**
 * A TCP proxy in front of PostgreSQL that counts, on the wire, what the client sends: its round trips
 * (a "turn" is what the client sends before the next server answer on that connection) and its
 * protocol messages (Sync and simple Query end a statement). It counts whatever client library or
 * configuration is used (prepared or not), so it measures what an endpoint really costs in round trips.
 * It can also delay what the client sends (`latencyMs`), as a far-away database would: a race test uses
 * that to hold one side's statements back while the other side's run.
 */

import type { AddressInfo, Socket } from 'node:net'
import { connect, createServer } from 'node:net'

export interface WireCounts {
  /** Round trips: client sends that follow a server answer (or open a connection). */
  roundTrips: number
  /** Statements: Sync ('S') and simple Query ('Q') messages. */
  statements: number
  /** New connections (each costs startup, authentication and parameter round trips). */
  connections: number
  /** Every client message by type, e.g. { P: 2, B: 2, E: 2, S: 2, startup: 1 }. */
  messages: Record<string, number>
}

export interface CountingProxy {
  /** `upstream` with its host and port replaced by the proxy's. */
  readonly url: string
  /** Counts since the last reset. */
  counts(): WireCounts
  reset(): void
  close(): Promise<void>
}

const empty = (): WireCounts => ({ roundTrips: 0, statements: 0, connections: 0, messages: {} })

export interface ProxyOptions {
  /** Milliseconds each client send waits before it is passed on (order kept). Default 0. */
  latencyMs?: number
}

export async function startCountingProxy(upstream: string, options: ProxyOptions = {}): Promise<CountingProxy> {
  const latency = options.latencyMs ?? 0
  const target = new URL(upstream)
  const upstreamPort = Number(target.port || 5432)
  let counts = empty()
  const sockets = new Set<Socket>()

  const server = createServer((client) => {
    counts.connections += 1
    const database = connect(upstreamPort, target.hostname)
    sockets.add(client).add(database)
    let lastFromClient = false
    let startup = true
    let pending: Buffer = Buffer.alloc(0)

    const parse = (chunk: Buffer): void => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
      for (;;) {
        if (startup) {
          if (pending.length < 8) return
          const length = pending.readInt32BE(0)
          if (pending.length < length) return
          const code = pending.readInt32BE(4)
          counts.messages['startup'] = (counts.messages['startup'] ?? 0) + 1
          // SSLRequest / GSSENCRequest are answered with one byte, then the real startup message follows.
          if (code !== 80877103 && code !== 80877104) startup = false
          pending = pending.subarray(length)
          continue
        }
        if (pending.length < 5) return
        const length = pending.readInt32BE(1)
        if (pending.length < 1 + length) return
        const type = String.fromCharCode(pending[0] as number)
        counts.messages[type] = (counts.messages[type] ?? 0) + 1
        if (type === 'S' || type === 'Q') counts.statements += 1
        pending = pending.subarray(1 + length)
      }
    }

    client.on('data', (chunk: Buffer) => {
      if (!lastFromClient) counts.roundTrips += 1
      lastFromClient = true
      parse(chunk)
      if (latency > 0) setTimeout(() => database.write(chunk), latency)
      else database.write(chunk)
    })
    database.on('data', (chunk: Buffer) => {
      lastFromClient = false
      client.write(chunk)
    })
    const end = (): void => {
      client.destroy()
      database.destroy()
      sockets.delete(client)
      sockets.delete(database)
    }
    client.on('close', end).on('error', end)
    database.on('close', end).on('error', end)
  })

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const url = new URL(upstream)
  url.hostname = '127.0.0.1'
  url.port = String(port)

  return {
    url: url.toString(),
    counts: () => ({ ...counts, messages: { ...counts.messages } }),
    reset() {
      counts = empty()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
