/** Runs before every test file: the environment a handler's cold start reads. */
import { inject } from 'vitest'
import type { LogLevel } from '../../lib/config.js'
import { setLogLevel } from '../../lib/log.js'

process.env['DATABASE_URL'] = inject('databaseUrl')
process.env['STAGE'] ??= 'test'
process.env['JWT_SECRET'] ??= 'test-secret-that-is-at-least-32-bytes-long!'
process.env['PSEUDONYM_KEY'] ??= 'test-pseudonym-key-of-at-least-32-bytes, random enough'
process.env['LOG_LEVEL'] ??= 'silent'
// Parallel requests in one test process get connections of their own, as separate Lambda containers would.
process.env['DATABASE_POOL_MAX'] ??= '10'
// Code that logs without building the app (e.g. a bare jsonRoute) logs at the same level.
setLogLevel(process.env['LOG_LEVEL'] as LogLevel)
