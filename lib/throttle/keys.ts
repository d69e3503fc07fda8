/**
 * The keys of the throttle counters: a keyed hash (HMAC-SHA-256 with PSEUDONYM_KEY, 16 bytes) of what is
 * counted, prefixed by its kind, so the table never holds a login or an address in clear and cannot be
 * reversed by hashing candidate logins without the key. An unknown login gets a key like any other: its
 * counter, its waits and its answers are a known login's.
 */
import type { KeyedHash } from '../pseudonyms.js'
import { addressPrefix } from './addresses.js'

export interface ThrottleKeys {
  /** Password checks on one account, by its login's canonical key (exists or not). */
  login(loginKey: string): Uint8Array
  /** Password checks by a signed-in identity (change-password). */
  identity(identityId: number): Uint8Array
  /** Failed credential attempts (login, refresh) from one source address. */
  address(sourceIp: string | null): Uint8Array
  /** Registrations from one source address. */
  registration(sourceIp: string | null): Uint8Array
  /** Email requests (forgot, reset, verify, resend, email change) from one source address. */
  emailRequests(sourceIp: string | null): Uint8Array
  /** Second-factor codes tried for one identity (their own pool, apart from its passwords). */
  mfa(identityId: number): Uint8Array
  /** Mails of one kind sent to one account, per minute and per hour. */
  accountMail(identityId: number, kind: 'password_reset' | 'verify_email', period: 'minute' | 'hourly'): Uint8Array
  /**
   * What a mail request for no account counts instead (by 0), per source address, so that its statement does
   * the work a real one does: its time must not say whether the account exists.
   */
  mailStandIn(sourceIp: string | null, period: 'minute' | 'hourly'): Uint8Array
}

export function createThrottleKeys(hash: KeyedHash): ThrottleKeys {
  // A request without a source address (never on API Gateway) shares one counter with every other such request.
  const address = (ip: string | null): string => (ip === null ? 'none' : addressPrefix(ip))
  return {
    login: (loginKey) => hash(`login:${loginKey}`),
    identity: (identityId) => hash(`identity:${identityId}`),
    address: (ip) => hash(`address:${address(ip)}`),
    registration: (ip) => hash(`registration:${address(ip)}`),
    emailRequests: (ip) => hash(`email:${address(ip)}`),
    mfa: (identityId) => hash(`mfa:${identityId}`),
    accountMail: (identityId, kind, period) => hash(`mail:${kind}:${period}:${identityId}`),
    mailStandIn: (ip, period) => hash(`mail-stand-in:${period}:${address(ip)}`),
  }
}
