import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { loginKeyOf } from '../../../../lib/logins/canonical.js'
import { loginSkeleton } from '../../../../lib/logins/skeleton.js'
import { GENERATED_LOGIN_ALPHABET, generatedLogin, pkceMatches, randomSecret, secretHash } from '../../../../lib/oauth/accounts.js'
import { LinkBody } from '../../../../lib/oauth/requests.js'

describe('generated logins', () => {
  it('use only characters that are their own login key and confusable skeleton, so key and skeleton are the login', () => {
    for (const character of `u_${GENERATED_LOGIN_ALPHABET}`) {
      expect(loginKeyOf(character), character).toBe(character)
      expect(loginSkeleton(character), character).toBe(character)
    }
    const login = generatedLogin()
    expect(login).toMatch(/^u_[a-z2-9]{14}$/)
    expect(loginSkeleton(loginKeyOf(login))).toBe(login)
  })

  it('are random: a thousand are all different', () => {
    expect(new Set(Array.from({ length: 1000 }, generatedLogin)).size).toBe(1000)
  })
})

describe('PKCE S256 (RFC 7636)', () => {
  it('matches the verifier and challenge of RFC 7636 Appendix B, and nothing else', () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
    expect(pkceMatches(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(true)
    expect(pkceMatches(verifier, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN')).toBe(false)
    expect(pkceMatches(`${verifier}x`, 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')).toBe(false)
    // The plain method's "challenge" (the verifier itself) never matches.
    expect(pkceMatches(verifier, verifier)).toBe(false)
  })

  it('makes 256-bit secrets stored only as their SHA-256', () => {
    const secret = randomSecret()
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(Buffer.from(secretHash(secret)).toString('hex')).not.toContain(Buffer.from(secret).toString('hex'))
    expect(secretHash(secret)).toHaveLength(32)
  })
})

describe('the link body', () => {
  it('is a start (redirect_uri and challenge) or a finish (code and verifier), never a mix', () => {
    const start = {
      redirect_uri: 'https://app.test/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }
    const finish = { code: randomSecret(), code_verifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk' }
    expect(v.safeParse(LinkBody, start).success).toBe(true)
    expect(v.safeParse(LinkBody, finish).success).toBe(true)
    expect(v.safeParse(LinkBody, { ...start, ...finish }).success).toBe(false)
    expect(v.safeParse(LinkBody, {}).success).toBe(false)
  })
})
