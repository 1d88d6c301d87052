// The preload of every window. Sandboxed preloads cannot load npm packages, so electron/build.mjs bundles
// this file (with zod) into dist/electron/preload/index.cjs.
import { contextBridge, ipcRenderer } from 'electron';
import { exposeWestfallApi } from './api.js';

exposeWestfallApi(contextBridge, ipcRenderer, process.argv);
