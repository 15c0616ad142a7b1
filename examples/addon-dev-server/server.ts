// A dev server whose request handler is a Node-API addon (handler.c), hosted by isoswap
// with `watch: true`: rebuild the addon and the next requests run the new build, with no
// restart, no lost connection and no failed request. Node itself cannot reload an addon.
//
//   node dist/examples/addon-dev-server/server.js <handler.node> [--isolation process] [--port N]
//
// Prints one JSON object a line: listening, swap, error, closed. SIGINT/SIGTERM close it.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createAddonHost, type Isolation } from '../../src/index.js';

/** The addon's exports, as napi-rs or a hand-written index.d.ts would declare them. */
interface Handler {
  handle(path: string): { status: number; body: string };
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    isolation: { type: 'string', default: 'thread' },
    port: { type: 'string', default: '0' },
  },
});
const addon = positionals[0];
if (addon === undefined) throw new Error('usage: server.js <handler.node> [--isolation process] [--port N]');

const print = (event: string, fields: Record<string, unknown> = {}): void => {
  console.log(JSON.stringify({ event, ...fields }));
};

const host = await createAddonHost<Handler>({ addon, watch: true, isolation: values.isolation as Isolation });
host.on('swap', ({ from, to, ms }) => print('swap', { from: from.id, to: to.id, sha256: to.sha256, ms: Math.round(ms * 10) / 10 }));
host.on('error', (err) => print('error', { code: err.code, message: err.message }));

let answered = 0;
let failed = 0;
const server = createServer((req, res) => {
  host.exports.handle(req.url ?? '/').then(({ status, body }) => {
    answered++;
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
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
