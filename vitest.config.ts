/**
 * The tests in four tiers (vitest projects); `npm test` runs them all, `npm run test:<tier>` one:
 * - unit: no database, no build; a few seconds.
 * - integration: the handlers and the rules on a real PostgreSQL, in process (functions/, reliability/,
 *   security/, property/, and the example service's handler with our authorizer).
 * - packaging: what osls and esbuild build (function bundles, `osls package` of each stage, the deploy guard,
 *   the example service's package); its package test runs the packaged migrate function on the database.
 * - e2e: `npm start` over HTTP.
 * The three with a database share one server (tests/support/global-setup.ts); unit starts none.
 */
import type { TestUserConfig } from 'vitest/config'
import { configDefaults, defineConfig } from 'vitest/config'

const common: TestUserConfig = {
  restoreMocks: true,
  // Benchmarks (npm run bench) run in the integration project only, with its database.
  benchmark: { include: [] },
}

const withDatabase: TestUserConfig = {
  globalSetup: ['tests/support/global-setup.ts'],
  setupFiles: ['tests/support/database-url.ts', 'tests/support/env.ts'],
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...common,
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          setupFiles: ['tests/support/no-database.ts', 'tests/support/env.ts'],
          testTimeout: 20_000,
          hookTimeout: 10_000,
        },
      },
      {
        test: {
          ...common,
          ...withDatabase,
          name: 'integration',
          include: ['tests/integration/**/*.test.ts', 'examples/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'examples/**/package.test.ts'],
          benchmark: { include: ['tests/bench/**/*.bench.ts'] },
          testTimeout: 20_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          ...common,
          ...withDatabase,
          name: 'packaging',
          include: ['tests/packaging/**/*.test.ts', 'examples/**/package.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
      {
        test: {
          ...common,
          ...withDatabase,
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
})
