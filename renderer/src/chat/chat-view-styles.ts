// The chat view's layout: the conversation list beside the chat (hidden when compact or narrow), the
// chat a column of header, settings panel, log, context meter and composer.
import { css } from 'lit';

export const chatViewStyles = css`
  :host {
    display: grid;
    grid-template-columns: 250px 1fr;
    height: 100%;
    min-height: 0;
  }
  :host([compact]) {
    grid-template-columns: 1fr;
  }
  aside {
    border-right: 1px solid var(--wf-border);
    background: var(--wf-surface);
    min-height: 0;
    display: flex;
    flex-direction: column;
  }
  :host([compact]) aside {
    display: none;
  }
  wf-conversation-list {
    flex: 1;
  }
  section.main {
    display: flex;
    flex-direction: column;
    min-height: 0;
    height: 100vh;
  }
  wf-composer {
    padding: 0.25rem 1.25rem 1rem;
  }
  wf-context-meter {
    padding: 0 1.25rem;
  }
  @media (max-width: 900px) {
    :host {
      grid-template-columns: 1fr;
    }
    aside {
      display: none;
    }
  }
`;
