/**
 * A stand-in for GitHub's OAuth 2 (no OpenID Connect) on 127.0.0.1, for the tests of the `github` provider kind:
 * GitHub's own endpoints and answers (docs.github.com, "Authorizing OAuth apps"; REST "Get the authenticated
 * user", "List email addresses for the authenticated user"). Its authorize endpoint approves at once as the
 * user set with `signInAs` (GitHub's login page is not what is tested), and it checks what GitHub checks: the
 * client secret, the code's redirect_uri and PKCE S256, the access token on the API.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface GitHubUser {
  id: number
  login: string
  name: string | null
  emails: { email: string; primary: boolean; verified: boolean }[]
}

export interface GitHubStandIn {
  url: string
  signInAs(user: GitHubUser): void
  close(): Promise<void>
}

const body = async (request: IncomingMessage): Promise<URLSearchParams> => {
  let text = ''
  for await (const chunk of request) text += chunk
  return new URLSearchParams(text)
}

const json = (response: ServerResponse, status: number, value: unknown): void => {
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(value))
}

export async function startGitHubStandIn(client: { clientId: string; clientSecret: string }): Promise<GitHubStandIn> {
  let current: GitHubUser | undefined
  const codes = new Map<string, { user: GitHubUser; challenge: string; redirectUri: string }>()
  const tokens = new Map<string, GitHubUser>()

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1')
    if (request.method === 'GET' && url.pathname === '/login/oauth/authorize') {
      const redirectUri = url.searchParams.get('redirect_uri') ?? ''
      if (!current || url.searchParams.get('client_id') !== client.clientId || url.searchParams.get('code_challenge_method') !== 'S256') {
        response.writeHead(400).end('bad request')
        return
      }
      const code = randomBytes(10).toString('hex')
      codes.set(code, { user: current, challenge: url.searchParams.get('code_challenge') ?? '', redirectUri })
      const back = new URL(redirectUri)
      back.searchParams.set('code', code)
      back.searchParams.set('state', url.searchParams.get('state') ?? '')
      response.writeHead(302, { Location: back.toString() }).end()
      return
    }
    if (request.method === 'POST' && url.pathname === '/login/oauth/access_token') {
      const form = await body(request)
      const basic = request.headers.authorization?.startsWith('Basic ')
        ? Buffer.from(request.headers.authorization.slice(6), 'base64').toString('utf8').split(':').map(decodeURIComponent)
        : [form.get('client_id'), form.get('client_secret')]
      const grant = codes.get(form.get('code') ?? '')
      codes.delete(form.get('code') ?? '')
      const verifier = form.get('code_verifier') ?? ''
      if (basic[0] !== client.clientId || basic[1] !== client.clientSecret) return json(response, 401, { error: 'invalid_client' })
      if (
        !grant ||
        grant.redirectUri !== form.get('redirect_uri') ||
        createHash('sha256').update(verifier).digest('base64url') !== grant.challenge
      ) {
        return json(response, 400, { error: 'bad_verification_code' })
      }
      const accessToken = `gho_${randomBytes(18).toString('hex')}`
      tokens.set(accessToken, grant.user)
      return json(response, 200, { access_token: accessToken, token_type: 'bearer', scope: 'read:user,user:email' })
    }
    const user = tokens.get(request.headers.authorization?.replace(/^Bearer /i, '') ?? '')
    if (request.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) {
      if (!user) return json(response, 401, { message: 'Requires authentication' })
      return url.pathname === '/user'
        ? json(response, 200, { id: user.id, login: user.login, name: user.name })
        : json(response, 200, user.emails)
    }
    json(response, 404, { message: 'Not Found' })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    signInAs: (user) => {
      current = user
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
