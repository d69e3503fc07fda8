/** To an address being added or changed to: the link that proves the reader owns it. */
import type { MailTemplate } from '../render.js'
import { button, html, layout } from '../render.js'

export const verifyEmail: MailTemplate<{ link: string; expires_hours: number }> = {
  render({ link, expires_hours }, { productName }) {
    const subject = `Confirm your email address for ${productName}`
    return {
      subject,
      text: `Confirm that this address is yours by opening this link (it works once, for ${expires_hours} hours):\n\n${link}\n\nIf you did not ask for this, ignore this mail: nothing changes.\n\n${productName}\n`,
      html: layout(
        subject,
        html`<p>Confirm that this address is yours (the link works once, for ${expires_hours} hours):</p>
${button(link, 'Confirm my email address')}
<p>If you did not ask for this, ignore this mail: nothing changes.</p>
<p>${productName}</p>`,
      ),
    }
  },
}
