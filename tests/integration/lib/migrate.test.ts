import { readdirSync } from 'node:fs'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getConfig } from '../../../lib/config.js'
import { MIGRATIONS_DIR, migrate } from '../../../lib/db/migrate.js'

const files = readdirSync(MIGRATIONS_DIR)
  .filter((f) => /^\d{5}_.*\.sql$/.test(f))
  .sort()

/** A database of its own on the test server, so migrations start from nothing. */
const database = `attune_migrate_${process.pid}_${Date.now().toString(36)}`
const serverUrl = getConfig().database.url
const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
const freshUrl = (() => {
  const url = new URL(serverUrl)
  url.pathname = `/${database}`
  return url.toString()
})()

beforeAll(async () => {
  await admin.unsafe(`create database ${database}`)
})

afterAll(async () => {
  await admin.unsafe(`drop database if exists ${database} with (force)`)
  await admin.end()
})

describe('migrate', () => {
  it('applies every migration once, in order, when three runners start at the same time', async () => {
    const runs = await Promise.all([migrate(freshUrl), migrate(freshUrl), migrate(freshUrl)])
    expect(runs.flat()).toHaveLength(files.length)
    const sql = postgres(freshUrl, { max: 1, onnotice: () => {} })
    try {
      const recorded = await sql`select migration_id, name from attune.migrations order by migration_id`
      expect(recorded.map((r) => r['migration_id'])).toEqual(files.map((_, i) => i + 1))
      const [table] = await sql`select to_regclass('attune.identity') as name`
      expect(table?.['name']).toBe('attune.identity')
    } finally {
      await sql.end()
    }
  })

  it('applies nothing when the schema is current', async () => {
    expect(await migrate(freshUrl)).toEqual([])
  })

  it('creates the seed’s identity columns (and ours after them), with a case-insensitive unique login', async () => {
    const sql = postgres(freshUrl, { max: 1, onnotice: () => {} })
    try {
      const columns = await sql`
        select column_name, data_type, is_nullable from information_schema.columns
        where table_schema = 'attune' and table_name = 'identity' order by ordinal_position`
      expect(columns.map((c) => [c['column_name'], c['data_type'], c['is_nullable']])).toEqual([
        ['id', 'bigint', 'NO'],
        ['login', 'text', 'NO'],
        ['display_name', 'text', 'YES'],
        ['attributes', 'jsonb', 'NO'],
        ['password_hash', 'text', 'YES'],
        ['created', 'timestamp with time zone', 'NO'],
        ['updated', 'timestamp with time zone', 'NO'],
        ['credentials_version', 'bigint', 'NO'],
      ])
      await sql`insert into attune.identity (login) values ('Alice')`
      await expect(sql`insert into attune.identity (login) values ('ALICE')`).rejects.toMatchObject({ code: '23505' })
    } finally {
      await sql.end()
    }
  })
})
