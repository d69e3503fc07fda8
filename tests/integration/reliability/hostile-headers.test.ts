/**
 * Headers a client controls and the service stores: the User-Agent is recorded on every session that
 * register and login open (lib/http/route.ts clientInfo → attune.session.user_agent). PostgreSQL's text type
 * refuses NUL (22021 "invalid byte sequence for encoding UTF8: 0x00"), and lone surrogates cannot be
 * encoded as UTF-8. Whatever the header holds, register and login answer 200 and the session is listed.
 * (Found by the property tests of tests/integration/property: a register with a NUL in its User-Agent answered 500
 * after the identity was already created.)
 */
import { describe, expect, it } from 'vitest'
import { handler as loginHandler } from '../../../functions/login.js'
import { handler as registerHandler } from '../../../functions/register.js'
import { api } from '../../support/api.js'
import { invoke, restEvent, uniqueLogin } from '../../support/events.js'

const PASSWORD = 'securepassword123'

const HOSTILE_USER_AGENTS: Array<[string, string]> = [
  ['a NUL', 'curl/8.0\u0000evil'],
  ['only NULs', '\u0000'.repeat(40)],
  ['control characters', 'agent\u0001\u0007\u001b[31m\u007f\u0085'],
  ['a lone surrogate', 'agent \uD800 end'],
  ['a surrogate pair cut at the 512-character bound', `${'a'.repeat(511)}😀`],
  ['8 KB of NULs and text', 'x\u0000'.repeat(4096)],
]

describe('hostile User-Agent headers', () => {
  it.each(HOSTILE_USER_AGENTS)(
    'registers, logs in and lists the session, stored as printable text, when the User-Agent holds %s',
    async (_, userAgent) => {
      const login = uniqueLogin('agent')
      const headers = { 'Content-Type': 'application/json', 'User-Agent': userAgent }
      const registered = await invoke(
        registerHandler,
        restEvent({ method: 'POST', path: '/auth/register', headers, body: { login, password: PASSWORD } }),
      )
      expect(registered.status).toBe(200)
      const loggedIn = await invoke(
        loginHandler,
        restEvent({ method: 'POST', path: '/auth/login', headers, body: { login, password: PASSWORD } }),
      )
      expect(loggedIn.status).toBe(200)

      const sessions = await api.sessions(loggedIn.body.data.access_token)
      expect(sessions.status).toBe(200)
      const agents = (sessions.body.data as Array<{ user_agent: string | null }>).map((s) => s.user_agent)
      expect(agents).toHaveLength(2)
      for (const agent of agents) {
        // What is stored is printable, well-formed text no longer than the bound (or nothing at all).
        if (agent !== null) {
          expect(agent).not.toMatch(/[\p{Cc}\p{Cs}]/u)
          expect(agent.length).toBeLessThanOrEqual(512)
        }
      }
    },
  )
})
