// A private Redis for a test: `redis-server` from PATH on a free port, no persistence
// (.ci/run installs Debian's redis-server when it is missing).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';

export interface RedisServer {
  url: string;
  process: ChildProcess;
  /** Kills it (SIGKILL: a crash, not a shutdown) and waits for it to end. */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Starts one and resolves once it accepts connections (bounded). */
export async function startRedis(timeoutMs = 30_000): Promise<RedisServer> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within ${timeoutMs} ms: ${output}`)), timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); }
    });
  });
  child.stdout.resume();
  return {
    url: `redis://127.0.0.1:${port}`,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
