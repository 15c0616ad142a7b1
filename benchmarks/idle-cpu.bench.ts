// CPU an idle host costs, of one core, over IDLE_MS: a thread host (process.cpuUsage counts
// every thread of this process, workers included) and a process host with its children
// (read from /proc: process.cpuUsage counts none), each once started and again after a
// burst of calls that set both sides spinning; beside this same process idle before any
// host existed. Beside each total, the host's own threads' share (its worker threads, its
// children): V8 collecting in this process after a start or a burst is not the host idling.
// Wake-ups: voluntary context switches of every thread of this process and of its
// children, per second (each is a sleep that ended).
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIRST_STANDBY_DELAY_MS } from '../src/runtime/start.js';
import { createIsolatedHost, type Isolation } from '../src/index.js';
import { removeTempDirs } from '../test/helpers/native.js';
import { r3, TICK, tickLibrary } from './fixtures.js';
import { report } from './report.js';

const IDLE_MS = 5000;
/** A host's start is not idling: its first standby starts FIRST_STANDBY_DELAY_MS after it
 *  serves (~100 ms of CPU), and each new isolate (the host's modules in this one, each
 *  worker's) has V8 collect what its start left within seconds. */
const SETTLE_MS = FIRST_STANDBY_DELAY_MS + 10_000;
/** After a burst, the window opens once the calls' garbage and spins are over. */
const AFTER_BURST_MS = 1000;
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ), where a thread has no schedstat. */
const TICKS_PER_SECOND = 100;

interface Idle {
  cpuPercent: number;
  /** The share of cpuPercent of the host's own threads: its worker threads (named isw-*)
   *  and its children; the rest is this process's main thread and V8's and libuv's. */
  workersCpuPercent: number;
  wakeUpsPerSecond: number;
}

/** One thread's CPU time (µs), voluntary context switches, and whether it is the host's. */
interface Thread {
  cpuUs: number;
  wakeUps: number;
  workers: boolean;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return ''; // the thread or process ended meanwhile
  }
}

/** The /proc directories of the threads of `pid`. */
function threadDirs(pid: number | 'self'): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map((tid) => `/proc/${pid}/task/${tid}`);
  } catch {
    return [];
  }
}

/** A thread's CPU time in µs: schedstat's nanoseconds, else stat's utime + stime ticks. */
function threadCpuUs(dir: string): number {
  const ns = Number(read(`${dir}/schedstat`).split(' ')[0]);
  if (Number.isFinite(ns) && ns > 0) return ns / 1000;
  const stat = read(`${dir}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is the 3rd
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_SECOND || 0;
}

/** Every thread of this process and of its children (a process host's workers and
 *  standby), by its /proc directory. */
function threads(): Map<string, Thread> {
  const children = threadDirs('self').flatMap((dir) => read(`${dir}/children`).split(' ').filter((pid) => pid !== '').map(Number));
  const all = new Map<string, Thread>();
  for (const pid of ['self' as const, ...children]) {
    for (const dir of threadDirs(pid)) {
      const wakeUps = Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(read(`${dir}/status`))?.[1] ?? 0);
      all.set(dir, { cpuUs: threadCpuUs(dir), wakeUps, workers: pid !== 'self' || read(`${dir}/comm`).startsWith('isw-') });
    }
  }
  return all;
}

/** CPU and wake-ups while this process sleeps IDLE_MS, its children included: this
 *  process's CPU from process.cpuUsage, the rest summed over the threads that lived
 *  through the whole window. */
async function idle(): Promise<Idle> {
  const before = threads();
  const cpu = process.cpuUsage();
  const t = performance.now();
  await sleep(IDLE_MS);
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - t;
  let childrenUs = 0;
  let workersUs = 0;
  let wakeUps = 0;
  for (const [dir, after] of threads()) {
    const was = before.get(dir);
    if (was === undefined) continue;
    wakeUps += after.wakeUps - was.wakeUps;
    if (after.workers) workersUs += after.cpuUs - was.cpuUs;
    if (!dir.startsWith('/proc/self/')) childrenUs += after.cpuUs - was.cpuUs;
  }
  const percent = (us: number): number => r3((100 * us) / (ms * 1000));
  return { cpuPercent: percent(used.user + used.system + childrenUs), workersCpuPercent: percent(workersUs), wakeUpsPerSecond: r3(wakeUps / (ms / 1000)) };
}

/** A host's idle once started, and after a burst of fast-path calls (callSync, then call). */
async function idleHost(library: string, isolation: Isolation): Promise<{ started: Idle; afterBurst: Idle }> {
  const host = await createIsolatedHost({ library, functions: TICK, isolation });
  try {
    await sleep(SETTLE_MS);
    const started = await idle();
    for (let i = 0; i < 100_000; i++) host.callSync('do_tick', i);
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => host.call('do_tick', i)));
    await sleep(AFTER_BURST_MS);
    return { started, afterBurst: await idle() };
  } finally {
    await host.close();
  }
}

let noHost: Idle;
let thread: Awaited<ReturnType<typeof idleHost>>;
let processHost: Awaited<ReturnType<typeof idleHost>>;
try {
  const { library } = await tickLibrary();
  await sleep(200); // let start-up work (module loading, the build) settle
  noHost = await idle();
  thread = await idleHost(library, 'thread');
  processHost = await idleHost(library, 'process');
} finally {
  await removeTempDirs();
}

report('idle-cpu', {
  idleMs: IDLE_MS,
  noHostCpuPercent: noHost.cpuPercent,
  noHostWakeUpsPerSecond: noHost.wakeUpsPerSecond,
  threadHostCpuPercent: thread.started.cpuPercent,
  threadHostWorkersCpuPercent: thread.started.workersCpuPercent,
  threadHostWakeUpsPerSecond: thread.started.wakeUpsPerSecond,
  threadHostAfterBurstCpuPercent: thread.afterBurst.cpuPercent,
  processHostCpuPercent: processHost.started.cpuPercent,
  processHostChildrenCpuPercent: processHost.started.workersCpuPercent,
  processHostWakeUpsPerSecond: processHost.started.wakeUpsPerSecond,
  processHostAfterBurstCpuPercent: processHost.afterBurst.cpuPercent,
  loadAvg1: r3(loadavg()[0]!),
  target: 'threadHostCpuPercent < 0.1 and processHostCpuPercent < 0.1 (children included; beside noHostCpuPercent)',
});
