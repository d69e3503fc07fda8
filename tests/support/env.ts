/** Runs before every test file: the environment a handler's cold start reads. */
import { inject } from 'vitest'

process.env['DATABASE_URL'] = inject('databaseUrl')
process.env['STAGE'] ??= 'test'
process.env['JWT_SECRET'] ??= 'test-secret-that-is-at-least-32-bytes-long!'
process.env['LOG_LEVEL'] ??= 'silent'
