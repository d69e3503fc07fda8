/**
 * Runs before every test file of the unit project, which starts no database: the configuration needs a
 * DATABASE_URL, and this one is never connected to. A unit test that reaches PostgreSQL fails at once (port 1
 * refuses connections) and belongs in tests/integration. Then tests/support/env.ts.
 */
process.env['DATABASE_URL'] = 'postgres://unit-tests-have-no-database@127.0.0.1:1/none'
