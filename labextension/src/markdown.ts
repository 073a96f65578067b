/**
 * Model output as HTML that cannot fetch, run or command anything.
 *
 * Answers are written by a model that may have read hostile data, so they are
 * rendered as untrusted text (SECURITY.md, "The agent"):
 * - images, inline or reference-style, become a text note: an image URL is a way
 *   to send data to someone else's server the moment it is displayed;
 * - links become their text followed by the URL as plain text, never a clickable
 *   or prefetched address;
 * - raw HTML is shown as text, never parsed;
 * - the result then passes an allow-list sanitiser (no `a`, `img`, `script`,
 *   `style`, forms, event handlers, `data-*` attributes such as JupyterLab's
 *   `data-commandlinker-command`, and only our own class names).
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'em', 'strong', 'del', 's', 'code', 'pre', 'blockquote', 'ul', 'ol',
  'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td',
  'span'
];
const ALLOWED_ATTR = ['class', 'align', 'start'];
const ALLOWED_CLASS = /^(?:language-[A-Za-z0-9_+-]{1,40}|jp-DSAgent-(?:url|blocked))$/;

/** `text` with the five HTML metacharacters escaped. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const parser = new Marked({
  async: false,
  gfm: true,
  breaks: false,
  renderer: {
    html({ text }) {
      return escapeHtml(text);
    },
    image({ href, text }) {
      const what = text ? `image “${escapeHtml(text)}”` : 'image';
      const where = href ? ` from ${escapeHtml(href)}` : '';
      return `<span class="jp-DSAgent-blocked">[${what}${where} not loaded]</span>`;
    },
    link({ href, tokens }) {
      const label = this.parser.parseInline(tokens);
      const url = `<span class="jp-DSAgent-url">${escapeHtml(href)}</span>`;
      const plainLabel = tokens.map(token => token.raw).join('');
      return plainLabel === href || href === `mailto:${plainLabel}` ? url : `${label} (${url})`;
    },
    code({ text, lang }) {
      const language = (lang ?? '').match(/^[A-Za-z0-9_+-]{1,40}/)?.[0];
      const attribute = language ? ` class="language-${language}"` : '';
      return `<pre><code${attribute}>${escapeHtml(text)}</code></pre>\n`;
    },
    checkbox({ checked }) {
      return checked ? '[x] ' : '[ ] ';
    }
  }
});

let purifier: ReturnType<typeof DOMPurify> | null = null;

function sanitizer(): ReturnType<typeof DOMPurify> {
  if (purifier === null) {
    purifier = DOMPurify(window);
    purifier.addHook('uponSanitizeAttribute', (_node, data) => {
      if (data.attrName === 'class') {
        const kept = data.attrValue.split(/\s+/).filter(name => ALLOWED_CLASS.test(name));
        data.attrValue = kept.join(' ');
        data.keepAttr = kept.length > 0;
      }
    });
  }
  return purifier;
}

/** Sanitised HTML for an answer's markdown; safe to assign to `innerHTML`. */
export function renderMarkdown(markdown: string): string {
  const html = parser.parse(markdown, { async: false });
  return sanitizer().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    ALLOW_UNKNOWN_PROTOCOLS: false,
    KEEP_CONTENT: true,
    RETURN_TRUSTED_TYPE: false
  });
}
