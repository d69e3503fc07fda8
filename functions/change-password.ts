/**
 * POST /auth/change-password — replace the password after checking the current one (seed: "Change Password").
 * Every other session of the identity ends; this one stays usable. Behind the authorizer.
 */
import { getApp } from '../lib/app.js'
import { jsonRoute } from '../lib/http.js'
import { passwordHashing } from '../lib/passwords.js'
import { ChangePasswordBody } from '../lib/schemas.js'

export const handler = jsonRoute({ authenticated: true, body: ChangePasswordBody }, ({ user, body }) =>
  getApp(passwordHashing).auth.changePassword(user, body),
)
