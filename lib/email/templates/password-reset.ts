/** To an account's verified address, on POST /auth/password/forgot: the link to choose a new password. */
import type { MailTemplate } from '../render.js'
import { button, html, layout } from '../render.js'

export const passwordReset: MailTemplate<{ link: string; expires_minutes: number }> = {
  render({ link, expires_minutes }, { productName }) {
    const subject = `Reset your ${productName} password`
    return {
      subject,
      text: `Someone (we hope you) asked to reset the password of your ${productName} account. Choose a new one here (the link works once, for ${expires_minutes} minutes):\n\n${link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n\n${productName}\n`,
      html: layout(
        subject,
        html`<p>Someone (we hope you) asked to reset the password of your ${productName} account.</p>
<p>Choose a new one (the link works once, for ${expires_minutes} minutes):</p>
${button(link, 'Choose a new password')}
<p>If it was not you, ignore this mail: your password stays as it is.</p>
<p>${productName}</p>`,
      ),
    }
  },
}
