/** An app of its own whose every statement goes through a counting proxy (tests/support/pg-counting-proxy.ts): one connection, counted on the wire. */
import type { App } from '../../lib/app.js'
import { createApp } from '../../lib/app.js'
import { loadConfig } from '../../lib/config.js'
import type { CountingProxy } from './pg-counting-proxy.js'
import { startCountingProxy } from './pg-counting-proxy.js'

export interface CountedApp {
  app: App
  proxy: CountingProxy
  close(): Promise<void>
}

export async function startCountedApp(env: Record<string, string> = {}): Promise<CountedApp> {
  const proxy = await startCountingProxy(process.env['DATABASE_URL'] as string)
  const app = createApp(loadConfig({ ...process.env, DATABASE_URL: proxy.url, DATABASE_POOL_MAX: '1', ...env }))
  return {
    app,
    proxy,
    async close() {
      await app.sql.end()
      await proxy.close()
    },
  }
}
