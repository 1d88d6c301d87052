import { css } from 'lit';

export const markdownStyles = css`
  .md {
    overflow-wrap: anywhere;
  }
  .md > :first-child {
    margin-top: 0;
  }
  .md > :last-child {
    margin-bottom: 0;
  }
  .md p,
  .md ul,
  .md ol,
  .md blockquote,
  .md table {
    margin: 0 0 0.6rem;
  }
  .md a {
    color: var(--wf-accent);
  }
  .md code {
    font-family: var(--wf-mono);
    font-size: 0.88em;
    background: var(--wf-code-bg);
    padding: 0.1em 0.3em;
    border-radius: 4px;
  }
  .md .code-block {
    position: relative;
    margin: 0 0 0.6rem;
  }
  .md .code-lang {
    position: absolute;
    right: 0.5rem;
    top: 0.3rem;
    font-size: 0.7rem;
    color: var(--wf-muted);
  }
  .md pre {
    background: var(--wf-code-bg);
    border: 1px solid var(--wf-border);
    border-radius: var(--wf-radius);
    padding: 0.75rem;
    overflow-x: auto;
    margin: 0;
  }
  .md pre code {
    background: none;
    padding: 0;
    font-size: 0.85rem;
  }
  .md blockquote {
    border-left: 3px solid var(--wf-border);
    padding-left: 0.75rem;
    color: var(--wf-muted);
  }
  /* A wide table scrolls inside the message instead of widening the log (narrow windows). */
  .md table {
    border-collapse: collapse;
    display: block;
    width: max-content;
    max-width: 100%;
    overflow-x: auto;
  }
  .md th,
  .md td {
    /* Whole words in cells: a narrow table scrolls rather than breaking "Groceries" into letters. */
    overflow-wrap: normal;
    border: 1px solid var(--wf-border);
    padding: 0.25rem 0.5rem;
  }
  .hljs-keyword,
  .hljs-selector-tag,
  .hljs-built_in,
  .hljs-type,
  .hljs-literal {
    color: var(--wf-hl-keyword);
  }
  .hljs-string,
  .hljs-regexp,
  .hljs-addition,
  .hljs-symbol {
    color: var(--wf-hl-string);
  }
  .hljs-number,
  .hljs-variable,
  .hljs-template-variable {
    color: var(--wf-hl-number);
  }
  .hljs-comment,
  .hljs-quote,
  .hljs-meta {
    color: var(--wf-hl-comment);
    font-style: italic;
  }
  .hljs-title,
  .hljs-section,
  .hljs-function,
  .hljs-name {
    color: var(--wf-hl-title);
  }
  .hljs-attr,
  .hljs-attribute,
  .hljs-property,
  .hljs-params {
    color: var(--wf-hl-attr);
  }
  .hljs-deletion {
    color: var(--wf-danger);
  }
`;
