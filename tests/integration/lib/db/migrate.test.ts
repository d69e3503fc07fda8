import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getConfig } from '../../../../lib/config.js'
import { migrate, migrations } from '../../../../lib/db/migrate.js'

const all = migrations()

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
    expect(runs.flat()).toHaveLength(all.length)
    const sql = postgres(freshUrl, { max: 1, onnotice: () => {} })
    try {
      const recorded = await sql`select migration_id, name from attune.migrations order by migration_id`
      expect(recorded.map((r) => r['migration_id'])).toEqual(all.map((_, i) => i + 1))
      const [table] = await sql`select to_regclass('attune.identity') as name`
      expect(table?.['name']).toBe('attune.identity')
    } finally {
      await sql.end()
    }
  })

  it('applies nothing when the schema is current', async () => {
    expect(await migrate(freshUrl)).toEqual([])
  })

  it('creates the specified identity columns (and ours after them), with a unique login, login key and skeleton', async () => {
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
        ['login_key', 'text', 'NO'],
        ['login_skeleton', 'text', 'NO'],
        ['email', 'text', 'YES'],
        ['authz_version', 'bigint', 'NO'],
        ['kind', 'text', 'NO'],
        ['suspended_at', 'timestamp with time zone', 'YES'],
        ['suspended_reason', 'text', 'YES'],
      ])
      await sql`insert into attune.identity (login, login_key, login_skeleton) values ('Alice', 'alice', 'alice')`
      await expect(
        sql`insert into attune.identity (login, login_key, login_skeleton) values ('ALICE', 'alice', 'x')`,
      ).rejects.toMatchObject({
        code: '23505',
      })
      await expect(
        sql`insert into attune.identity (login, login_key, login_skeleton) values ('аlice', 'аlice', 'alice')`,
      ).rejects.toMatchObject({
        code: '23505',
      })
    } finally {
      await sql.end()
    }
  })

  it('fills login keys and skeletons of existing identities, and refuses to complete, naming them, when two collide', async () => {
    const database = `attune_keys_${process.pid}_${Date.now().toString(36)}`
    await admin.unsafe(`create database ${database}`)
    const url = new URL(serverUrl)
    url.pathname = `/${database}`
    const sql = postgres(url.toString(), { max: 1, onnotice: () => {} })
    try {
      // A database as the service left it before login keys: migrations 1-3 only.
      const early = migrations().filter((m) => m.id <= 3)
      await sql.begin(async (tx) => {
        for (const m of early) await m.run(tx)
        await tx`create table attune.migrations (migration_id serial primary key, created_at timestamptz not null default now(), name text)`
        for (const m of early) await tx`insert into attune.migrations (migration_id, name) values (${m.id}, ${m.name})`
      })
      await sql`insert into attune.identity (login) values ('Ｂｏｂ'), ('carol\u200b'), ('alice'), ('аlice')`
      const refused = await migrate(url.toString()).catch((error: Error) => error)
      expect(refused).toBeInstanceOf(Error)
      expect(String((refused as Error).message)).toMatch(/look alike: \d+ "alice", \d+ "аlice"/)
      // Nothing of the failed run stays: the column does not exist yet.
      const [column] = await sql`select 1 from information_schema.columns where table_name = 'identity' and column_name = 'login_key'`
      expect(column).toBeUndefined()

      await sql`update attune.identity set login = 'alice-cyrillic' where login = 'аlice'`
      expect(await migrate(url.toString())).toEqual(all.filter((m) => m.id > 3).map((m) => m.name))
      const rows = await sql`select login, login_key, login_skeleton from attune.identity order by id`
      expect(rows.map((r) => [r['login'], r['login_key']])).toEqual([
        ['Ｂｏｂ', 'bob'],
        ['carol\u200b', 'carol'],
        ['alice', 'alice'],
        ['alice-cyrillic', 'alice-cyrillic'],
      ])
    } finally {
      await sql.end()
      await admin.unsafe(`drop database if exists ${database} with (force)`)
    }
  })
})
