// How the addon dev server's handler is built for the load runner (load.ts, and the test
// that runs it): gcc against the node-api-headers package, no node-gyp, no network.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { HandlerBuild } from '../dev-server/load-run.js';

export const ADDON_HANDLER: HandlerBuild = {
  server: fileURLToPath(new URL('./server.js', import.meta.url)),
  source: fileURLToPath(new URL('../../../examples/addon-dev-server/handler.c', import.meta.url)),
  file: 'handler.node',
  gccFlags: ['-I', (createRequire(import.meta.url)('node-api-headers') as { include_dir: string }).include_dir],
};
