// A dev server whose request handler is native code (handler.c), hosted by isoswap with
// `watch: true`: rebuild the library and the next requests run the new build, with no
// restart, no lost connection and no failed request.
//
//   node dist/examples/dev-server/server.js <libhandler.so> [--isolation process] [--port N]
//
// Prints one JSON object a line: listening, swap, error, closed. SIGINT/SIGTERM close it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createIsolatedHost, type Isolation } from '../../src/index.js';

const ROUTES = new Map([['/', 0], ['/users', 1], ['/items', 2]]);

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    isolation: { type: 'string', default: 'thread' },
    port: { type: 'string', default: '0' },
  },
});
const library = positionals[0];
if (library === undefined) throw new Error('usage: server.js <libhandler.so> [--isolation process] [--port N]');

const print = (event: string, fields: Record<string, unknown> = {}): void => {
  console.log(JSON.stringify({ event, ...fields }));
};

const host = await createIsolatedHost({
  library,
  functions: { handle: 'int32_t handle(int32_t)' },
  watch: true,
  isolation: values.isolation as Isolation,
});
host.on('swap', ({ from, to, ms }) => print('swap', { from: from.id, to: to.id, sha256: to.sha256, ms: Math.round(ms * 10) / 10 }));
host.on('error', (err) => print('error', { code: err.code, message: err.message }));

let answered = 0;
let failed = 0;
const server = createServer((req, res) => {
  const route = ROUTES.get(req.url ?? '') ?? -1;
  if (route < 0) {
    res.writeHead(404).end();
    return;
  }
  host.fns.handle(route).then((value: number) => {
    answered++;
    res.writeHead(200, { 'content-type': 'application/json' })
      .end(`{"route":${route},"build":${Math.floor(value / 100)},"value":${value}}`);
  }, (err: Error) => {
    failed++;
    res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message);
  });
});
server.listen(Number(values.port), '127.0.0.1', () => {
  print('listening', { port: (server.address() as AddressInfo).port, isolation: values.isolation, serving: host.current.id });
});

const close = async (): Promise<void> => {
  await new Promise((resolve) => { server.close(resolve); server.closeIdleConnections(); });
  await host.close();
  print('closed', { answered, failed, versions: host.history.length });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void close(); });
