// node:cluster workers running test/fixtures/fleet-worker.js, for the fleet tests and the
// skew benchmark: the calling process is the primary.
import cluster, { type Worker } from 'node:cluster';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Fleet } from '../../src/index.js';

/** What a worker says when asked (fleet-worker.ts). */
export interface WorkerReport {
  issued: number;
  answered: number;
  rejected: string[];
  answeredBy: Record<string, number>;
  sha256: string;
  reasons: string[];
  /** What host.reload() did on this member. */
  reload: string;
}

const WORKER = fileURLToPath(new URL('../fixtures/fleet-worker.js', import.meta.url));

/** Forks one member; `env` adds to the library path and the load. */
export function forkMember(library: string, env: Record<string, string> = {}, lanes = 2): Worker {
  cluster.setupPrimary({ exec: WORKER });
  return cluster.fork({ FLEET_LIBRARY: library, FLEET_LANES: String(lanes), ...env });
}

/** Every live worker. */
export function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
}

/** Asks a worker for its report (its load pauses while it answers), within `timeoutMs`. */
export async function ask(worker: Worker, timeoutMs = 60_000): Promise<WorkerReport> {
  const signal = AbortSignal.timeout(timeoutMs);
  const answer = new Promise<WorkerReport>((resolve) => {
    const listen = (message: { test?: string } & WorkerReport): void => {
      if (message?.test !== 'report') return;
      worker.off('message', listen);
      resolve(message);
    };
    worker.on('message', listen);
  });
  worker.send({ test: 'report' });
  return Promise.race([answer, once(signal, 'abort').then(() => { throw new Error(`worker ${worker.id} did not report within ${timeoutMs} ms`); })]);
}

/** Resolves once the fleet lists `count` members (bounded). */
export async function untilMembers(fleet: Fleet, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = AbortSignal.timeout(timeoutMs);
  while (fleet.status().length < count) {
    await Promise.race([once(fleet, 'join'), once(deadline, 'abort').then(() => { throw new Error(`the fleet has ${fleet.status().length} of ${count} members after ${timeoutMs} ms`); })]);
  }
}

/** Closes every worker's host and waits for it to exit; kills one that does not (bounded). */
export async function closeWorkers(timeoutMs = 30_000): Promise<void> {
  await Promise.all(Object.values(cluster.workers ?? {}).map(async (worker) => {
    if (worker === undefined) return;
    const exited = once(worker, 'exit');
    if (worker.isConnected()) worker.send({ test: 'close' });
    const timer = setTimeout(() => worker.process.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }));
}
