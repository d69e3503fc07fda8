/** To an account's current verified address, when a change to another address is asked for. */
import type { MailTemplate } from '../render.js'
import { html, layout } from '../render.js'

export const emailChangeNotice: MailTemplate<Record<string, never>> = {
  render(_data, { productName }) {
    const subject = `Your ${productName} email address is being changed`
    return {
      subject,
      text: `Someone signed in to your ${productName} account asked to change its email address. The change happens only when the new address is confirmed.\n\nIf that was not you, change your password now and sign out every session.\n\n${productName}\n`,
      html: layout(
        subject,
        html`<p>Someone signed in to your ${productName} account asked to change its email address. The change happens only when the new address is confirmed.</p>
<p>If that was not you, change your password now and sign out every session.</p>
<p>${productName}</p>`,
      ),
    }
  },
}
