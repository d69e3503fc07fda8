/**
 * A real OpenID Connect provider on 127.0.0.1 (panva's oidc-provider), the identity provider that `npm start`
 * and the integration and e2e tests of "Sign in with OpenID Connect" send people to. Authorization code flow
 * only, PKCE (S256) required, scopes `openid email profile`, claims sub, email, email_verified and name, all
 * in the ID token; RFC 9207's `iss` in every authorization response. Its sign-in page is a bare HTML form
 * (login, password) at /interaction/<uid>; consent is never asked: every client gets `openid email profile`.
 *
 * Clients and users live in memory and can be added while it runs. For attack tests it can rewrite the
 * claims of the ID tokens its token endpoint answers and sign them again with its own key.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose'
// @ts-expect-error -- oidc-provider ships no type declarations (and there is no @types package for v9); the
// little of it used here is typed below.
import OidcProviderModule from 'oidc-provider'

export interface LocalOidcClient {
  clientId: string
  clientSecret: string
  redirectUris: string[]
}

export interface LocalOidcUser {
  login: string
  password: string
  subject: string
  email?: string
  emailVerified?: boolean
  name?: string
}

/** The test user npm start's banner shows. */
export const LOCAL_OIDC_USER: LocalOidcUser = {
  login: 'ada',
  password: 'ada-local-password',
  subject: 'ada-0001',
  email: 'ada@example.test',
  emailVerified: true,
  name: 'Ada Lovelace',
}

/** A claims rewrite for the ID token the token endpoint answers (attack tests): return the claims to sign instead, or undefined to leave it. */
export type IdTokenTamper = (claims: Record<string, unknown>) => Record<string, unknown> | undefined

export interface LocalOidcProvider {
  /** http://127.0.0.1:<port>, no trailing slash. */
  issuer: string
  /** Adds a user, or replaces the one with the same login. */
  addUser(user: LocalOidcUser): void
  /** Adds a client, or replaces the one with the same client ID; usable at once. */
  addClient(client: LocalOidcClient): void
  /** From now on, every ID token the token endpoint answers is re-signed with the provider's own signing key after `tamper` rewrote its claims; `undefined` turns it off. */
  tamperIdTokens(tamper: IdTokenTamper | undefined): void
  close(): Promise<void>
}

const SCOPE = 'openid email profile'

// The parts of oidc-provider (and of Koa, which it extends) used here.

interface OidcInteraction {
  uid: string
  prompt: { name: string }
}

interface OidcGrant {
  accountId?: string
  addOIDCScope(scope: string): void
  save(): Promise<string>
}

interface OidcGrantModel {
  new (properties: { clientId: string; accountId: string }): OidcGrant
  find(id: string): Promise<OidcGrant | undefined>
}

interface OidcProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): unknown
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>
  Grant: OidcGrantModel
}

type OidcProviderClass = new (issuer: string, configuration: Record<string, unknown>) => OidcProviderInstance

/** Koa's context as oidc-provider hands it to middleware and to configuration functions. */
interface KoaContext {
  body: unknown
  status: number
  type: string
  oidc?: {
    route?: string
    client?: { clientId: string }
    session?: { accountId?: string; grantIdFor(clientId: string): string | undefined }
    result?: { consent?: { grantId?: string } }
  }
}

const Provider = OidcProviderModule as OidcProviderClass

/** One stored artifact of the provider (session, interaction, code, token, grant...). */
interface Stored {
  payload: Record<string, unknown>
  /** Epoch milliseconds; undefined: kept. */
  expiresAt: number | undefined
}

/**
 * oidc-provider's storage, in memory: its own memory adapter warns on every start that it is for development
 * only, and clients come from here too (not from the configuration), so that addClient works while it runs.
 */
function memoryAdapter(clients: Map<string, LocalOidcClient>) {
  const store = new Map<string, Stored>()
  const live = (key: string): Stored | undefined => {
    const stored = store.get(key)
    if (stored?.expiresAt !== undefined && stored.expiresAt <= Date.now()) {
      store.delete(key)
      return undefined
    }
    return stored
  }
  const sweep = (): void => {
    const now = Date.now()
    for (const [key, stored] of store) if (stored.expiresAt !== undefined && stored.expiresAt <= now) store.delete(key)
  }
  return (model: string) => {
    const keyOf = (id: string): string => `${model}:${id}`
    const findBy = (property: string, value: string): Record<string, unknown> | undefined => {
      for (const key of store.keys()) {
        if (!key.startsWith(`${model}:`)) continue
        const stored = live(key)
        if (stored?.payload[property] === value) return stored.payload
      }
      return undefined
    }
    return {
      async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
        if (store.size > 1000) sweep()
        store.set(keyOf(id), { payload, expiresAt: typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : undefined })
      },
      async find(id: string): Promise<Record<string, unknown> | undefined> {
        if (model === 'Client') {
          const client = clients.get(id)
          return client && clientMetadata(client)
        }
        return live(keyOf(id))?.payload
      },
      async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
        return findBy('uid', uid)
      },
      async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
        return findBy('userCode', userCode)
      },
      async consume(id: string): Promise<void> {
        const stored = live(keyOf(id))
        if (stored) stored.payload['consumed'] = Math.floor(Date.now() / 1000)
      },
      async destroy(id: string): Promise<void> {
        store.delete(keyOf(id))
      },
      async revokeByGrantId(grantId: string): Promise<void> {
        for (const [key, stored] of store) if (stored.payload['grantId'] === grantId) store.delete(key)
      },
    }
  }
}

function clientMetadata(client: LocalOidcClient): Record<string, unknown> {
  return {
    client_id: client.clientId,
    client_secret: client.clientSecret,
    redirect_uris: [...client.redirectUris],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    // oidc-provider takes client_secret_post from a client registered for client_secret_basic, and the reverse.
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }
}

function userClaims(user: LocalOidcUser): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: user.subject }
  if (user.email !== undefined) {
    claims['email'] = user.email
    claims['email_verified'] = user.emailVerified ?? false
  }
  if (user.name !== undefined) claims['name'] = user.name
  return claims
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string): Buffer => createHash('sha256').update(value).digest()
  return timingSafeEqual(digest(given), digest(expected))
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

function loginPage(uid: string, error?: string): string {
  const action = `/interaction/${encodeURIComponent(uid)}/login`
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in (local OpenID provider)</title></head>
<body>
<h1>Sign in</h1>
${error === undefined ? '' : `<p role="alert" class="error">${escapeHtml(error)}</p>\n`}<form method="post" action="${escapeHtml(action)}">
<label>Login <input name="login" autocomplete="username" autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button>
</form>
</body>
</html>
`
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    size += buffer.length
    if (size > 64 * 1024) throw new Error('form too large')
    chunks.push(buffer)
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Starts it on `port` (0: any free one) of 127.0.0.1 with these clients and users (LOCAL_OIDC_USER when none are given). */
export async function startLocalOidcProvider(options: {
  port: number
  clients: LocalOidcClient[]
  users?: LocalOidcUser[]
}): Promise<LocalOidcProvider> {
  const clients = new Map<string, LocalOidcClient>()
  const usersByLogin = new Map<string, LocalOidcUser>()
  const usersBySubject = new Map<string, LocalOidcUser>()
  const addClient = (client: LocalOidcClient): void => {
    clients.set(client.clientId, { ...client, redirectUris: [...client.redirectUris] })
  }
  const addUser = (user: LocalOidcUser): void => {
    const previous = usersByLogin.get(user.login)
    if (previous) usersBySubject.delete(previous.subject)
    usersByLogin.set(user.login, { ...user })
    usersBySubject.set(user.subject, { ...user })
  }
  for (const client of options.clients) addClient(client)
  for (const user of options.users ?? [LOCAL_OIDC_USER]) addUser(user)
  let tamper: IdTokenTamper | undefined

  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(jwk)
  const signingJwk = { ...jwk, kid, alg: 'RS256', use: 'sig' }

  // The issuer names the port, so the server listens before the provider exists.
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const server: Server = createServer((req, res) => {
    if (handle) handle(req, res)
    else send(res, 503, 'starting')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const provider = new Provider(issuer, {
    adapter: memoryAdapter(clients),
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')] },
    responseTypes: ['code'],
    // v9 knows S256 only (the `methods` option is gone); this makes PKCE required for confidential clients too.
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The scopes' claims in the ID token too, not only at the userinfo endpoint.
    conformIdTokenClaims: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: KoaContext, interaction: OidcInteraction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx: KoaContext, sub: string) {
      const user = usersBySubject.get(sub)
      if (!user) return undefined
      return { accountId: user.subject, claims: async () => userClaims(user) }
    },
    // Consent is never asked: an existing grant, or else a new one with every scope (oidc-provider's recipe).
    async loadExistingGrant(ctx: KoaContext): Promise<OidcGrant | undefined> {
      const oidc = ctx.oidc
      const clientId = oidc?.client?.clientId
      const accountId = oidc?.session?.accountId
      if (!oidc || clientId === undefined || accountId === undefined) return undefined
      const grantId = oidc.result?.consent?.grantId ?? oidc.session?.grantIdFor(clientId)
      const existing = grantId === undefined ? undefined : await provider.Grant.find(grantId)
      if (existing && existing.accountId === accountId) return existing
      const grant = new provider.Grant({ clientId, accountId })
      grant.addOIDCScope(SCOPE)
      await grant.save()
      return grant
    },
    // Numbers rather than the defaults, which each log a notice on first use.
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 3600, Session: 86_400, Grant: 86_400 },
    clientBasedCORS: () => false,
    async renderError(ctx: KoaContext, out: Record<string, unknown>) {
      ctx.type = 'text/plain; charset=utf-8'
      ctx.body = Object.entries(out)
        .map(([key, value]) => `${key}: ${String(value)}`)
        .join('\n')
    },
  })

  provider.use(async (ctx, next) => {
    await next()
    const rewrite = tamper
    if (!rewrite || ctx.oidc?.route !== 'token' || ctx.status !== 200 || !isRecord(ctx.body)) return
    const idToken = ctx.body['id_token']
    if (typeof idToken !== 'string') return
    const claims = rewrite({ ...decodeJwt(idToken) })
    if (claims === undefined) return
    const { typ } = decodeProtectedHeader(idToken)
    ctx.body = {
      ...ctx.body,
      id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, ...(typ === undefined ? {} : { typ }) }).sign(privateKey),
    }
  })

  const interaction = async (req: IncomingMessage, res: ServerResponse, uid: string, action: string | undefined): Promise<void> => {
    let details: OidcInteraction
    try {
      details = await provider.interactionDetails(req, res)
    } catch (error) {
      send(res, 400, `no such sign-in in progress: ${error instanceof Error ? error.message : String(error)}`)
      return
    }
    if (details.uid !== uid) return send(res, 400, 'this sign-in is not the one in progress')
    if (details.prompt.name !== 'login') return send(res, 500, `unexpected prompt ${details.prompt.name}`)
    if (action === undefined && req.method === 'GET') return send(res, 200, loginPage(uid), 'text/html; charset=utf-8')
    if (action !== 'login' || req.method !== 'POST') return send(res, 404, 'not found')
    const form = await readForm(req)
    const user = usersByLogin.get(form.get('login') ?? '')
    if (!user || !sameSecret(form.get('password') ?? '', user.password)) {
      return send(res, 200, loginPage(uid, 'Wrong login or password.'), 'text/html; charset=utf-8')
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.subject } }, { mergeWithLastSubmission: false })
  }

  const oidc = provider.callback()
  handle = (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname
    const match = /^\/interaction\/([^/]+)(?:\/([^/]+))?$/.exec(path)
    if (!match?.[1]) return oidc(req, res)
    interaction(req, res, decodeURIComponent(match[1]), match[2]).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, error instanceof Error ? error.message : String(error))
      else res.destroy()
    })
  }

  return {
    issuer,
    addUser,
    addClient,
    tamperIdTokens(next) {
      tamper = next
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      }),
  }
}
