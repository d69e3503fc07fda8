/** The local OpenID Connect provider (infra/local/oidc-provider.ts) as openid-client, our relying party's library, sees it. */
import * as client from 'openid-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalOidcClient, LocalOidcProvider } from '../../../infra/local/oidc-provider.js'
import { LOCAL_OIDC_USER, startLocalOidcProvider } from '../../../infra/local/oidc-provider.js'
import { signInAtProvider } from '../../support/oidc-browser.js'

const CALLBACK = 'http://127.0.0.1:9/auth/oauth/example/callback'
const CLIENT: LocalOidcClient = { clientId: 'attune-test', clientSecret: 'attune-test-secret-0123456789abcdef', redirectUris: [CALLBACK] }

let provider: LocalOidcProvider
let config: client.Configuration

beforeAll(async () => {
  provider = await startLocalOidcProvider({ port: 0, clients: [CLIENT] })
  config = await client.discovery(new URL(provider.issuer), CLIENT.clientId, CLIENT.clientSecret, undefined, {
    execute: [client.allowInsecureRequests],
  })
})

afterAll(async () => {
  await provider?.close()
})

/** An authorization request as our relying party makes it: PKCE S256, state and nonce. */
async function authorizationRequest() {
  const pkceCodeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid email profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  })
  return { url: url.href, checks: { pkceCodeVerifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } }
}

describe('the local OpenID Connect provider', () => {
  it('runs on 127.0.0.1 and its discovery document announces code flow, PKCE S256 and RFC 9207 iss', () => {
    expect(provider.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const metadata = config.serverMetadata()
    expect(metadata.issuer).toBe(provider.issuer)
    expect(metadata.response_types_supported).toEqual(['code'])
    expect(metadata.code_challenge_methods_supported).toEqual(['S256'])
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true)
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'email', 'profile']))
    expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']))
  })

  it('signs LOCAL_OIDC_USER in with code flow and PKCE: the callback carries iss, the ID token sub, email, email_verified and name', async () => {
    const request = await authorizationRequest()
    const callback = await signInAtProvider(request.url, LOCAL_OIDC_USER, CALLBACK)
    expect(callback.searchParams.get('iss')).toBe(provider.issuer)
    expect(callback.searchParams.get('state')).toBe(request.checks.expectedState)
    expect(callback.searchParams.get('code')).toEqual(expect.any(String))

    const tokens = await client.authorizationCodeGrant(config, callback, request.checks)
    expect(tokens.claims()).toMatchObject({
      iss: provider.issuer,
      aud: CLIENT.clientId,
      nonce: request.checks.expectedNonce,
      sub: 'ada-0001',
      email: 'ada@example.test',
      email_verified: true,
      name: 'Ada Lovelace',
    })
  })

  it('refuses the sign-in with a wrong password: no code', async () => {
    const request = await authorizationRequest()
    await expect(signInAtProvider(request.url, { login: LOCAL_OIDC_USER.login, password: 'not-the-password' }, CALLBACK)).rejects.toThrow(
      /refused the sign-in of "ada".*Wrong login or password/,
    )
  })

  it('refuses an authorization request without PKCE', async () => {
    const url = client.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid', state: client.randomState() })
    const callback = await signInAtProvider(url.href, LOCAL_OIDC_USER, CALLBACK)
    expect(callback.searchParams.get('error')).toBe('invalid_request')
    expect(callback.searchParams.get('code')).toBeNull()
  })

  it('answers ID tokens rewritten by tamperIdTokens, signed with its own key, which openid-client rejects for their aud', async () => {
    provider.tamperIdTokens((claims) => ({ ...claims, aud: 'someone-else' }))
    try {
      const request = await authorizationRequest()
      const callback = await signInAtProvider(request.url, LOCAL_OIDC_USER, CALLBACK)
      // A claim check failing, not the signature: the rewritten token is signed with the provider's own key.
      await expect(client.authorizationCodeGrant(config, callback, request.checks)).rejects.toMatchObject({
        code: 'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
        cause: { message: expect.stringContaining('"aud"'), cause: { claim: 'aud', claims: { aud: 'someone-else' } } },
      })
    } finally {
      provider.tamperIdTokens(undefined)
    }

    const request = await authorizationRequest()
    const callback = await signInAtProvider(request.url, LOCAL_OIDC_USER, CALLBACK)
    const tokens = await client.authorizationCodeGrant(config, callback, request.checks)
    expect(tokens.claims()?.aud).toBe(CLIENT.clientId)
  })

  it('signs in a user added with addUser, whose ID token says email_verified false', async () => {
    provider.addUser({
      login: 'grace',
      password: 'grace-password',
      subject: 'grace-0002',
      email: 'grace@example.test',
      emailVerified: false,
    })
    const request = await authorizationRequest()
    const callback = await signInAtProvider(request.url, { login: 'grace', password: 'grace-password' }, CALLBACK)
    const tokens = await client.authorizationCodeGrant(config, callback, request.checks)
    expect(tokens.claims()).toMatchObject({ sub: 'grace-0002', email: 'grace@example.test', email_verified: false })
  })

  it('accepts a client added with addClient, authenticating with client_secret_post', async () => {
    const added: LocalOidcClient = {
      clientId: 'attune-added',
      clientSecret: 'attune-added-secret-0123456789abcdef',
      redirectUris: [CALLBACK],
    }
    provider.addClient(added)
    const postConfig = await client.discovery(
      new URL(provider.issuer),
      added.clientId,
      undefined,
      client.ClientSecretPost(added.clientSecret),
      { execute: [client.allowInsecureRequests] },
    )
    const pkceCodeVerifier = client.randomPKCECodeVerifier()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(postConfig, {
      redirect_uri: CALLBACK,
      scope: 'openid email profile',
      code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
      code_challenge_method: 'S256',
      nonce,
    })
    const callback = await signInAtProvider(url.href, LOCAL_OIDC_USER, CALLBACK)
    const tokens = await client.authorizationCodeGrant(postConfig, callback, {
      pkceCodeVerifier,
      expectedNonce: nonce,
      idTokenExpected: true,
    })
    expect(tokens.claims()).toMatchObject({ aud: added.clientId, sub: LOCAL_OIDC_USER.subject })
  })
})
