/**
 * The pieces every mail is made of: an HTML tag that escapes whatever it interpolates (so nothing a value holds
 * becomes markup), one layout for the HTML part, and the message shape the mailer sends (subject, text, HTML).
 */

/** A rendered mail: plain text and HTML, both complete. */
export interface RenderedMail {
  subject: string
  text: string
  html: string
}

/** What every template is given besides its own data. */
export interface MailContext {
  productName: string
}

export interface MailTemplate<Data> {
  render(data: Data, context: MailContext): RenderedMail
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** HTML-escapes text (and attribute values): & < > " ' */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string)

/** Safe HTML: a fragment whose interpolations were escaped. */
export class Html {
  constructor(readonly value: string) {}
}

/** `html\`<p>${text}</p>\``: escapes each interpolated string; an interpolated Html is kept as is. */
export function html(strings: TemplateStringsArray, ...values: ReadonlyArray<string | number | Html>): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => {
    out += value instanceof Html ? value.value : escapeHtml(String(value))
    out += strings[i + 1] ?? ''
  })
  return new Html(out)
}

/** The HTML part: a plain, accessible page around `body`. */
export function layout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title}</title></head>
<body style="font-family: system-ui, sans-serif; line-height: 1.5; max-width: 36em; margin: 2em auto; padding: 0 1em;">
${body}
</body>
</html>`.value
}

/** A link as a button-like anchor; its URL and label are escaped. */
export const button = (url: string, label: string): Html =>
  html`<p><a href="${url}" style="display: inline-block; padding: 0.6em 1.2em; background: #1f4e99; color: #fff; text-decoration: none; border-radius: 4px;">${label}</a></p>
<p style="font-size: 0.9em; color: #555;">Or paste this address into your browser: ${url}</p>`
