/**
 * A tiny browser for OpenID Connect tests: follows an authorization request through the identity provider's
 * sign-in form (infra/local/oidc-provider.ts's), with fetch, manual redirects and a cookie jar, up to the
 * redirect back to the relying party's callback, which it does not request.
 */

interface Cookie {
  name: string
  value: string
  origin: string
  path: string
  /** Epoch milliseconds; undefined: a session cookie. */
  expiresAt: number | undefined
}

/** Cookies by origin, with Path and expiry honoured (Domain, Secure and SameSite are not needed here). */
class CookieJar {
  readonly #cookies: Cookie[] = []

  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = header.split(';')
      const equals = pair.indexOf('=')
      if (equals < 1) continue
      const name = pair.slice(0, equals).trim()
      const value = pair.slice(equals + 1).trim()
      let path = defaultPath(url)
      let expiresAt: number | undefined
      for (const attribute of attributes) {
        const [key = '', ...rest] = attribute.split('=')
        const attributeValue = rest.join('=').trim()
        switch (key.trim().toLowerCase()) {
          case 'path':
            if (attributeValue.startsWith('/')) path = attributeValue
            break
          case 'max-age':
            expiresAt = Date.now() + Number(attributeValue) * 1000
            break
          case 'expires':
            // Max-Age wins over Expires.
            if (!attributes.some((other) => other.trim().toLowerCase().startsWith('max-age='))) expiresAt = Date.parse(attributeValue)
            break
        }
      }
      const index = this.#cookies.findIndex((cookie) => cookie.origin === url.origin && cookie.name === name && cookie.path === path)
      if (index >= 0) this.#cookies.splice(index, 1)
      if (expiresAt === undefined || expiresAt > Date.now()) this.#cookies.push({ name, value, origin: url.origin, path, expiresAt })
    }
  }

  header(url: URL): string | undefined {
    const now = Date.now()
    const matching = this.#cookies.filter(
      (cookie) =>
        cookie.origin === url.origin &&
        pathMatches(url.pathname, cookie.path) &&
        (cookie.expiresAt === undefined || cookie.expiresAt > now),
    )
    return matching.length > 0 ? matching.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ') : undefined
  }
}

function defaultPath(url: URL): string {
  const last = url.pathname.lastIndexOf('/')
  return last <= 0 ? '/' : url.pathname.slice(0, last)
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true
  if (!requestPath.startsWith(cookiePath)) return false
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/'
}

const MAX_STEPS = 20

/**
 * Follows `authorizationUrl` (the provider's authorize URL with client_id, redirect_uri, state, nonce, code_challenge...)
 * through the provider's login form as `login`/`password`, and returns the URL the provider finally redirects to that
 * starts with `stopAt` (our callback URL) — without requesting it. Throws with a clear message if the login is refused
 * or the flow ends elsewhere.
 */
export async function signInAtProvider(
  authorizationUrl: string,
  credentials: { login: string; password: string },
  stopAt: string,
): Promise<URL> {
  const jar = new CookieJar()
  let url = new URL(authorizationUrl)
  let init: { method: 'GET' } | { method: 'POST'; body: string } = { method: 'GET' }
  let submitted = false

  for (let step = 0; step < MAX_STEPS; step++) {
    const headers: Record<string, string> = {}
    const cookie = jar.header(url)
    if (cookie !== undefined) headers['cookie'] = cookie
    if (init.method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    jar.store(url, response)
    const here = `${init.method} ${url.href}`

    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel()
      const location = response.headers.get('location')
      if (!location) throw new Error(`${here} answered ${response.status} without a Location`)
      const next = new URL(location, url)
      if (next.href.startsWith(stopAt)) return next
      url = next
      init = { method: 'GET' }
      continue
    }

    const body = await response.text()
    if (response.status !== 200)
      throw new Error(`${here} answered ${response.status} instead of redirecting to ${stopAt}: ${body.slice(0, 500)}`)
    const action = formAction(body)
    if (action === undefined)
      throw new Error(`${here} answered a page with no sign-in form instead of redirecting to ${stopAt}: ${body.slice(0, 500)}`)
    if (submitted)
      throw new Error(
        `the provider refused the sign-in of ${JSON.stringify(credentials.login)}: it showed its sign-in form again: ${pageText(body)}`,
      )
    url = new URL(action, url)
    init = { method: 'POST', body: new URLSearchParams({ login: credentials.login, password: credentials.password }).toString() }
    submitted = true
  }
  throw new Error(`no redirect to ${stopAt} after ${MAX_STEPS} requests from ${authorizationUrl}`)
}

/** The action of the page's form with a `password` field, or undefined. */
function formAction(html: string): string | undefined {
  for (const [, attributes = '', content = ''] of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    if (!/\bname=["']?password\b/i.test(content)) continue
    const action = /\baction=(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(attributes)
    const raw = action?.[1] ?? action?.[2] ?? action?.[3]
    return raw === undefined ? '' : decodeEntities(raw)
  }
  return undefined
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(Number.parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** The page's visible text, shortened, for error messages. */
function pageText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style|title)\b[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  ).slice(0, 300)
}
