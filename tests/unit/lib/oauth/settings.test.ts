import { describe, expect, it } from 'vitest'
import { ConfigError, loadOAuthConfig } from '../../../../lib/config.js'
import { callbackUrl } from '../../../../lib/oauth/settings.js'

const GOOGLE = {
  STAGE: 'prod',
  OAUTH_PROVIDERS: 'google',
  OAUTH_GOOGLE_ISSUER: 'https://accounts.google.com',
  OAUTH_GOOGLE_CLIENT_ID: '1234.apps.googleusercontent.com',
  OAUTH_GOOGLE_CLIENT_SECRET: 'GOCSPX-the-client-secret',
  OAUTH_ALLOWED_REDIRECT_URIS: 'https://app.example.com/auth/callback, com.example.app:/oauth http://127.0.0.1:7777/cb',
  OAUTH_PUBLIC_URL: 'https://auth.example.com/',
}

const problemsOf = (env: Record<string, string | undefined>): string[] => {
  try {
    loadOAuthConfig(env)
    return []
  } catch (error) {
    if (error instanceof ConfigError) return error.problems
    throw error
  }
}

describe('the providers configuration', () => {
  it('reads each provider from its own variables, with the defaults', () => {
    const config = loadOAuthConfig({
      ...GOOGLE,
      OAUTH_PROVIDERS: 'google, github, okta-eu',
      OAUTH_GITHUB_CLIENT_ID: 'Iv1.abc',
      OAUTH_GITHUB_CLIENT_SECRET: 'gh-secret',
      OAUTH_OKTA_EU_ISSUER: 'https://example.okta.com/oauth2/default/',
      OAUTH_OKTA_EU_CLIENT_ID: 'okta-client',
      OAUTH_OKTA_EU_CLIENT_SECRET: 'okta-secret',
      OAUTH_OKTA_EU_SCOPES: 'openid email',
    })
    expect([...config.providers.values()]).toEqual([
      {
        name: 'google',
        kind: 'oidc',
        issuer: 'https://accounts.google.com',
        apiUrl: undefined,
        clientId: '1234.apps.googleusercontent.com',
        clientSecret: 'GOCSPX-the-client-secret',
        scopes: 'openid email profile',
      },
      {
        name: 'github',
        kind: 'github',
        issuer: 'https://github.com',
        apiUrl: 'https://api.github.com',
        clientId: 'Iv1.abc',
        clientSecret: 'gh-secret',
        scopes: 'read:user user:email',
      },
      {
        name: 'okta-eu',
        kind: 'oidc',
        issuer: 'https://example.okta.com/oauth2/default',
        apiUrl: undefined,
        clientId: 'okta-client',
        clientSecret: 'okta-secret',
        scopes: 'openid email',
      },
    ])
    expect(config.allowedRedirectUris).toEqual([
      'https://app.example.com/auth/callback',
      'com.example.app:/oauth',
      'http://127.0.0.1:7777/cb',
    ])
    expect(config.autoLink).toBe('off')
    expect(callbackUrl(config, 'google')).toBe('https://auth.example.com/auth/oauth/google/callback')
  })

  it('offers no provider when none is named', () => {
    expect(loadOAuthConfig({ STAGE: 'prod' }).providers.size).toBe(0)
  })

  it('fails closed outside local: missing secrets, plain-http issuers and callbacks, unsafe redirect URIs', () => {
    const problems = problemsOf({
      ...GOOGLE,
      OAUTH_GOOGLE_CLIENT_SECRET: undefined,
      OAUTH_GOOGLE_ISSUER: 'http://accounts.google.com',
      OAUTH_ALLOWED_REDIRECT_URIS: 'http://app.example.com/cb https://app.example.com/cb#frag myapp:/cb not-a-url',
      OAUTH_PUBLIC_URL: 'http://auth.example.com',
      OAUTH_TRUSTED_PROVIDERS: 'facebook',
      OAUTH_AUTO_LINK: 'always',
    })
    expect(problems).toEqual([
      'OAUTH_GOOGLE_ISSUER must be an https URL',
      'OAUTH_GOOGLE_CLIENT_SECRET is required for provider "google" (keep it in the secret store)',
      'OAUTH_ALLOWED_REDIRECT_URIS: "http://app.example.com/cb" must be https (or http on a loopback address)',
      'OAUTH_ALLOWED_REDIRECT_URIS: "https://app.example.com/cb#frag" must not have a fragment',
      'OAUTH_ALLOWED_REDIRECT_URIS: "myapp:/cb" must be https, loopback http, or a reverse-domain app scheme',
      'OAUTH_ALLOWED_REDIRECT_URIS: "not-a-url" is not an absolute URL',
      'OAUTH_AUTO_LINK must be one of off, verified_email',
      'OAUTH_TRUSTED_PROVIDERS: "facebook" is not in OAUTH_PROVIDERS',
      'OAUTH_PUBLIC_URL must be an https URL',
    ])
    // Never a secret's value in a problem.
    expect(problemsOf({ ...GOOGLE, OAUTH_GOOGLE_ISSUER: 'http://x.test' }).join(' ')).not.toContain('GOCSPX')
  })

  it('needs the redirect URIs and the public URL once a provider is named, and refuses odd provider names', () => {
    expect(problemsOf({ ...GOOGLE, OAUTH_ALLOWED_REDIRECT_URIS: undefined, OAUTH_PUBLIC_URL: undefined })).toEqual([
      'OAUTH_ALLOWED_REDIRECT_URIS is required with OAUTH_PROVIDERS (your clients’ pages a sign-in returns to)',
      "OAUTH_PUBLIC_URL is required with OAUTH_PROVIDERS (this API's public URL, e.g. https://auth.example.com)",
    ])
    expect(problemsOf({ ...GOOGLE, OAUTH_PROVIDERS: 'Google' })[0]).toContain('"Google" is not a provider name')
  })

  it('allows a plain-http issuer on a loopback address (a local provider), and anything on stage local', () => {
    expect(problemsOf({ ...GOOGLE, OAUTH_GOOGLE_ISSUER: 'http://127.0.0.1:8006' })).toEqual([])
    expect(
      problemsOf({
        ...GOOGLE,
        STAGE: 'local',
        OAUTH_GOOGLE_ISSUER: 'http://idp.lan',
        OAUTH_PUBLIC_URL: undefined,
        OAUTH_ALLOWED_REDIRECT_URIS: 'http://app.lan/cb',
      }),
    ).toEqual([])
    expect(loadOAuthConfig({ ...GOOGLE, STAGE: 'local', OAUTH_PUBLIC_URL: undefined }).publicUrl).toBe('http://localhost:8080')
  })
})
