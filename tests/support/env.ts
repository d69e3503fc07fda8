/**
 * Runs before every test file, after tests/support/database-url.ts (or no-database.ts in the unit project)
 * has set DATABASE_URL: the rest of the environment a handler's cold start reads (tests/support/test-environment.ts),
 * where the caller has not set it already.
 */
import type { LogLevel } from '../../lib/config.js'
import { setLogLevel } from '../../lib/log.js'
import { TEST_ENVIRONMENT } from './test-environment.js'

for (const [name, value] of Object.entries(TEST_ENVIRONMENT)) process.env[name] ??= value
// Code that logs without building the app (e.g. a bare jsonRoute) logs at the same level.
setLogLevel(process.env['LOG_LEVEL'] as LogLevel)
