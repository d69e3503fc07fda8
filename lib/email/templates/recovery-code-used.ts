/** To an account's verified address, after one of its two-factor recovery codes was spent: the notice, in case it was not the owner. */
import type { MailTemplate } from '../render.js'
import { html, layout } from '../render.js'

export const recoveryCodeUsed: MailTemplate<Record<string, never>> = {
  render(_data, { productName }) {
    const subject = `A recovery code of your ${productName} account was used`
    return {
      subject,
      text: `One of the recovery codes of your ${productName} account was just used in place of your authenticator app. Each code works once.\n\nIf that was not you, change your password now, renew your recovery codes, and check your account's security events.\n\n${productName}\n`,
      html: layout(
        subject,
        html`<p>One of the recovery codes of your ${productName} account was just used in place of your authenticator app. Each code works once.</p>
<p>If that was not you, change your password now, renew your recovery codes, and check your account's security events.</p>
<p>${productName}</p>`,
      ),
    }
  },
}
