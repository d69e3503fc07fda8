/** The environment the tests give the application (tests/support/env.ts sets it; an osls child must not inherit it). */
export const TEST_ENVIRONMENT: Readonly<Record<string, string>> = {
  STAGE: 'test',
  JWT_SECRET: 'test-secret-that-is-at-least-32-bytes-long!',
  PSEUDONYM_KEY: 'test-pseudonym-key-of-at-least-32-bytes, random enough',
  MFA_ENCRYPTION_KEYS: `test:${Buffer.from('test-mfa-key-of-exactly-32-bytes').toString('base64')}`,
  LOG_LEVEL: 'silent',
  // Every test request comes from the one address of AWS's sample event: per-address limits that a real client
  // would never share are lifted for the suite. The throttling tests build apps with the real defaults.
  REGISTRATIONS_PER_ADDRESS: '1000000',
  ADDRESS_MAX_FAILURES: '1000000',
  EMAIL_FROM: 'Attune Auth Tests <no-reply@attune.test>',
  PASSWORD_RESET_URL: 'https://app.attune.test/reset-password#token={token}',
  EMAIL_VERIFY_URL: 'https://app.attune.test/verify-email#token={token}',
  EMAIL_REQUESTS_PER_ADDRESS: '1000000',
  // Parallel requests in one test process get connections of their own, as separate Lambda containers would.
  DATABASE_POOL_MAX: '10',
}
