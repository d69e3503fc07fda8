/**
 * Runs before every test file of the projects with a database (integration, packaging, e2e): DATABASE_URL is
 * the test run's PostgreSQL (tests/support/global-setup.ts). Then tests/support/env.ts.
 */
import { inject } from 'vitest'

process.env['DATABASE_URL'] = inject('databaseUrl')
