// A dev server whose request handler is native code (handler.c), hosted by isoswap with
// `watch: true`: rebuild the library and the next requests run the new build, with no
// restart, no lost connection and no failed request.
//
//   node dist/examples/dev-server/server.js <libhandler.so> [--isolation process] [--port N]
//
// Prints one JSON object a line: listening, swap, error, closed. SIGINT/SIGTERM close it.
import { createIsolatedHost } from 'isoswap';
import { devServerArgs, serveDevServer, type DevResponse } from './serve.js';

const ROUTES = new Map([['/', 0], ['/users', 1], ['/items', 2]]);

const args = devServerArgs('usage: server.js <libhandler.so> [--isolation process] [--port N]');
const host = await createIsolatedHost({
  library: args.file,
  functions: { handle: 'int32_t handle(int32_t)' },
  watch: true,
  isolation: args.isolation,
});

serveDevServer(host, async (path): Promise<DevResponse> => {
  const route = ROUTES.get(path) ?? -1;
  if (route < 0) return { status: 404, body: '' };
  const value = await host.fns.handle(route);
  return { status: 200, body: `{"route":${route},"build":${Math.floor(value / 100)},"value":${value}}` };
}, args);
