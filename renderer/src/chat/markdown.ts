// Markdown for chat messages: marked (GFM) → highlight.js for fenced code → DOMPurify. The output is safe to
// put into the DOM: no scripts, no event handlers, no style attributes, no forms; links open in a new
// window without a referrer. Images may only come from data: URLs and this origin (the CSP enforces it too).
import DOMPurify from 'dompurify';
import hljs from 'highlight.js/lib/common';
import { Marked, type Tokens } from 'marked';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const marked = new Marked({ gfm: true, breaks: false, async: false });
marked.use({
  renderer: {
    code(token: Tokens.Code): string {
      const lang = (token.lang ?? '').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
      let body: string;
      let shown = lang;
      try {
        if (lang && hljs.getLanguage(lang)) body = hljs.highlight(token.text, { language: lang, ignoreIllegals: true }).value;
        else if (token.text.length < 20_000) {
          const auto = hljs.highlightAuto(token.text);
          body = auto.value;
          shown = lang || auto.language || '';
        } else body = escapeHtml(token.text);
      } catch {
        body = escapeHtml(token.text);
      }
      const label = shown ? `<span class="code-lang">${escapeHtml(shown)}</span>` : '';
      return `<div class="code-block">${label}<pre><code class="hljs${shown ? ` language-${escapeHtml(shown)}` : ''}">${body}</code></pre></div>`;
    },
  },
});

let hooked = false;
function hookPurifier(): void {
  if (hooked) return;
  hooked = true;
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
    if (node.tagName === 'IMG') {
      const src = node.getAttribute('src') ?? '';
      if (!/^data:image\/(png|gif|jpeg|webp);/i.test(src)) node.removeAttribute('src');
    }
  });
}

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'textarea', 'select', 'option', 'iframe', 'object', 'embed', 'svg', 'math'],
  FORBID_ATTR: ['style', 'id', 'name'],
  ALLOW_DATA_ATTR: false,
};

/** Markdown → sanitized HTML. */
export function renderMarkdown(text: string): string {
  hookPurifier();
  const raw = marked.parse(text) as string;
  return DOMPurify.sanitize(raw, PURIFY_CONFIG) as string;
}

/** Styles for rendered markdown and highlight.js tokens (theme-aware). */
export { markdownStyles } from './markdown-styles.js';
