// A dev server whose request handler is a Node-API addon (handler.c), hosted by isoswap
// with `watch: true`: rebuild the addon and the next requests run the new build, with no
// restart, no lost connection and no failed request. Node itself cannot reload an addon.
//
//   node dist/examples/addon-dev-server/server.js <handler.node> [--isolation process] [--port N]
//
// Prints one JSON object a line: listening, swap, error, closed. SIGINT/SIGTERM close it.
import { createAddonHost } from 'isoswap';
import { devServerArgs, serveDevServer } from '../dev-server/serve.js';

/** The addon's exports, as napi-rs or a hand-written index.d.ts would declare them. */
interface Handler {
  handle(path: string): { status: number; body: string };
}

const args = devServerArgs('usage: server.js <handler.node> [--isolation process] [--port N]');
const host = await createAddonHost<Handler>({ addon: args.file, watch: true, isolation: args.isolation });
serveDevServer(host, (path) => host.exports.handle(path), args);
