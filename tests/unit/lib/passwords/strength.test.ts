import { describe, expect, it } from 'vitest'
import { commonPasswordDigest, foldPassword, localWeakness } from '../../../../lib/passwords/strength.js'

describe('localWeakness', () => {
  it('refuses one character repeated, in any case or width', () => {
    for (const password of ['        ', 'aaaaaaaa', 'AaAaAaAa', 'ｚｚｚｚｚｚｚｚ', 'ßßßß', '🔐🔐🔐🔐🔐🔐🔐🔐']) {
      expect(localWeakness(password, { login: 'someone' }), password).toBe('repeated_character')
    }
  })

  it('refuses a password containing the login or the display name, case and width folded', () => {
    expect(localWeakness('my-ALEXANDER-2026', { login: 'alexander' })).toBe('password_contains_login')
    expect(localWeakness('my-ａｌｅｘａｎｄｅｒ-2026', { login: 'Alexander' })).toBe('password_contains_login')
    expect(localWeakness('ilove-marguerite', { login: 'mg', displayName: 'Marguerite' })).toBe('password_contains_display_name')
  })

  it('does not look for names under 4 characters, which would refuse half of all passwords', () => {
    expect(localWeakness('correct horse battery', { login: 'ho', displayName: 'bat' })).toBeUndefined()
  })

  it('accepts an ordinary password', () => {
    expect(localWeakness('correct horse battery staple', { login: 'alice', displayName: 'Alice Liddell' })).toBeUndefined()
  })
})

describe('commonPasswordDigest', () => {
  it('is the same for a password in any case or width (the list is folded the same way)', () => {
    expect(commonPasswordDigest('PASSWORD1')).toEqual(commonPasswordDigest('password1'))
    expect(commonPasswordDigest('ｐａｓｓｗｏｒｄ１')).toEqual(commonPasswordDigest('password1'))
    expect(foldPassword('Straße')).toBe('strasse')
    expect(commonPasswordDigest('password1')).toHaveLength(16)
  })
})
