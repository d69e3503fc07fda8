/** The shapes of the ids the API hands out and reads back, checked in one place. */

/** An identity id as text: a positive integer that a JSON number holds exactly. */
export const IDENTITY_ID = /^[1-9]\d{0,15}$/

/** A session or token id: a UUID as `randomUUID()` writes it (lower-case hex). */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
