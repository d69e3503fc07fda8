/** `npm run audit` as an operator runs it: a child process reading DATABASE_URL. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { api, registerUser } from '../../support/api.js'

const run = promisify(execFile)

async function audit(args: string[], env: Record<string, string | undefined> = {}) {
  try {
    const { stdout, stderr } = await run('node', ['--import', 'tsx', 'infra/audit.ts', ...args], {
      env: { PATH: process.env['PATH'], DATABASE_URL: process.env['DATABASE_URL'], ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string }
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('npm run audit', () => {
  it("prints one identity's events as a table, newest first, filtered by --type and --since", async () => {
    const user = await registerUser()
    await api.logout(user.tokens.access_token)
    const all = await audit(['--identity', String(user.identityId)])
    expect(all.code).toBe(0)
    const lines = all.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^id +occurred_at \(UTC\) +type/)
    expect(lines.slice(2).map((line) => line.split(/ {2,}/)[2])).toEqual(['session.ended', expect.any(String), expect.any(String)])
    expect(
      lines
        .slice(3)
        .map((line) => line.split(/ {2,}/)[2])
        .sort(),
    ).toEqual(['identity.registered', 'session.created'])
    expect(lines[2]).toContain('{"reason":"logout"}')

    const ended = await audit(['--identity', String(user.identityId), '--type', 'session.ended', '--since', '2026-01-01'])
    expect(ended.stdout.trim().split('\n')).toHaveLength(3)
    const future = await audit(['--identity', String(user.identityId), '--since', '2999-01-01'])
    expect(future.stdout.trim()).toBe('(no events)')
  })

  it('refuses to run without DATABASE_URL or with a bad argument, with the usage', async () => {
    const missing = await audit(['--identity', '1'], { DATABASE_URL: '' })
    expect(missing).toMatchObject({ code: 1, stderr: expect.stringContaining('DATABASE_URL is required') })
    const bad = await audit(['--identity', 'alice'])
    expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('usage: npm run audit') })
  })
})
