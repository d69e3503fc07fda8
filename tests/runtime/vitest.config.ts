/**
 * The packaged functions in AWS's own runtime interface client (aws-lambda-ric), run by `.ci/run` (step 6) and
 * `npm run test:runtime`, apart from `npm test`: the client is an optional dependency that compiles native code
 * (autoconf, automake, libtool, cmake, a C++ compiler; never on macOS), so a newcomer's `npm test` never needs it.
 */
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'runtime',
    root: new URL('../..', import.meta.url).pathname,
    include: ['tests/runtime/**/*.test.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    setupFiles: ['tests/support/database-url.ts', 'tests/support/env.ts'],
    restoreMocks: true,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
})
