/**
 * To an address that already belongs to an account, when someone asks to add it to another: the asker gets the
 * same answer as for a free address (no enumeration); the owner of the address hears about it instead.
 */
import type { MailTemplate } from '../render.js'
import { html, layout } from '../render.js'

export const emailInUse: MailTemplate<Record<string, never>> = {
  render(_data, { productName }) {
    const subject = `Your address was entered on ${productName}`
    return {
      subject,
      text: `Someone asked to use this address for a ${productName} account, but it already belongs to yours, so nothing changed.\n\nIf that was you, sign in to your account (or reset its password). If not, you can ignore this mail.\n\n${productName}\n`,
      html: layout(
        subject,
        html`<p>Someone asked to use this address for a ${productName} account, but it already belongs to yours, so nothing changed.</p>
<p>If that was you, sign in to your account (or reset its password). If not, you can ignore this mail.</p>
<p>${productName}</p>`,
      ),
    }
  },
}
