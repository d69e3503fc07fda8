/** To an account's verified address, after its password was reset: the notice, in case it was not the owner. */
import type { MailTemplate } from '../render.js'
import { html, layout } from '../render.js'

export const passwordChanged: MailTemplate<Record<string, never>> = {
  render(_data, { productName }) {
    const subject = `Your ${productName} password was changed`
    return {
      subject,
      text: `The password of your ${productName} account was just reset, and every session was signed out.\n\nIf that was not you, ask for a password reset now, and check your account's security events.\n\n${productName}\n`,
      html: layout(
        subject,
        html`<p>The password of your ${productName} account was just reset, and every session was signed out.</p>
<p>If that was not you, ask for a password reset now, and check your account's security events.</p>
<p>${productName}</p>`,
      ),
    }
  },
}
