// What both dev servers share (this one, whose handler is a shared library, and
// examples/addon-dev-server, whose handler is a Node-API addon): the command line, the
// HTTP server around the handler, the JSON lines the load runner reads, and closing on
// SIGINT/SIGTERM.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { AddonHost, IsolatedHost, Isolation } from 'isoswap';

export interface DevServerArgs {
  /** The handler file the host serves. */
  file: string;
  isolation: Isolation;
  port: number;
}

/** `<file> [--isolation process] [--port N]`; throws `usage` without a file. */
export function devServerArgs(usage: string): DevServerArgs {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      isolation: { type: 'string', default: 'thread' },
      port: { type: 'string', default: '0' },
    },
  });
  const file = positionals[0];
  if (file === undefined) throw new Error(usage);
  return { file, isolation: values.isolation as Isolation, port: Number(values.port) };
}

const print = (event: string, fields: Record<string, unknown> = {}): void => {
  console.log(JSON.stringify({ event, ...fields }));
};

/** A response a handler decides. */
export interface DevResponse {
  status: number;
  body: string;
}

/**
 * Serves HTTP on 127.0.0.1 with `respond(path)` (a call into the current version of
 * `host`), printing one JSON object a line: listening, swap, error, closed (with how many
 * requests were answered and how many failed). SIGINT/SIGTERM close the server, then the host.
 *
 * @example
 * serveDevServer(host, (path) => host.exports.handle(path), devServerArgs('usage: ...'));
 */
export function serveDevServer(host: IsolatedHost<any> | AddonHost<any>, respond: (path: string) => Promise<DevResponse>, args: DevServerArgs): void {
  host.on('swap', ({ from, to, ms }) => print('swap', { from: from.id, to: to.id, sha256: to.sha256, ms: Math.round(ms * 10) / 10 }));
  host.on('error', (err) => print('error', { code: err.code, message: err.message }));

  let answered = 0;
  let failed = 0;
  const server = createServer((req, res) => {
    respond(req.url ?? '/').then(({ status, body }) => {
      answered++;
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    }, (err: Error) => {
      failed++;
      res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message);
    });
  });
  server.listen(args.port, '127.0.0.1', () => {
    print('listening', { port: (server.address() as AddressInfo).port, isolation: args.isolation, serving: host.current.id });
  });

  const close = async (): Promise<void> => {
    await new Promise((resolve) => { server.close(resolve); server.closeIdleConnections(); });
    await host.close();
    print('closed', { answered, failed, versions: host.history.length });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void close(); });
}
