// A tool call in plain words: the backend's own filler (src/tools/tool-sentence.ts, a pure module bundled
// in by esbuild, as src/locale is), so the confirmation card's sentence follows the user's edits as they
// type, by the same rules as the sentence the backend sends.
export { MISSING, fillSentence, genericSentence, type FilledSentence } from '../../../src/tools/tool-sentence.js';
