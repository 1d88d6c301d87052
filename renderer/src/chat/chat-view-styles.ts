// The chat view's layout: the conversation list beside the chat (a drawer in narrow windows, none in the
// quick-ask window), the chat a column of header, settings panel, log, context meter and composer that
// fills the view's height, so the composer stays at the bottom edge and only the log scrolls.
import { css } from 'lit';

export const chatViewStyles = css`
  :host {
    position: relative;
    display: grid;
    grid-template-columns: 250px minmax(0, 1fr);
    height: 100%;
    min-height: 0;
  }
  :host([compact]) {
    grid-template-columns: minmax(0, 1fr);
  }
  aside {
    border-right: 1px solid var(--wf-border);
    background: var(--wf-surface);
    min-height: 0;
    display: flex;
    flex-direction: column;
  }
  :host([compact]) aside,
  :host([compact]) .list-toggle {
    display: none;
  }
  wf-conversation-list {
    flex: 1;
  }
  section.main {
    display: flex;
    flex-direction: column;
    min-height: 0;
    min-width: 0;
    /* The shell's <main> gives the view its height (less the top bar in narrow windows). */
    height: 100%;
  }
  wf-composer {
    padding: 0.25rem 1.25rem max(1rem, env(safe-area-inset-bottom));
  }
  wf-context-meter {
    padding: 0 1.25rem;
  }
  .list-toggle,
  .scrim {
    display: none;
  }
  @media (max-width: 900px) {
    :host {
      grid-template-columns: minmax(0, 1fr);
    }
    aside {
      display: none;
    }
    .list-toggle {
      display: inline-flex;
    }
    /* The list as a drawer over the chat, with a scrim that closes it. */
    aside.open {
      display: flex;
      position: absolute;
      inset: 0 auto 0 0;
      width: min(300px, 85%);
      z-index: 6;
      box-shadow: var(--wf-shadow);
    }
    .scrim:not([hidden]) {
      display: block;
      position: absolute;
      inset: 0;
      z-index: 5;
      background: rgb(0 0 0 / 0.3);
    }
  }
  @media (max-width: 700px) {
    wf-composer {
      padding: 0.25rem 0.5rem max(0.5rem, env(safe-area-inset-bottom));
    }
    wf-context-meter {
      padding: 0 0.5rem;
    }
  }
`;
