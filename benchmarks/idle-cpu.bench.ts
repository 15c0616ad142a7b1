// CPU an idle host costs, of one core, over IDLE_MS: a thread host (process.cpuUsage counts
// every thread of this process, workers included) and a process host with its children
// (read from /proc: process.cpuUsage counts none), each once started and again after a
// burst of calls that set both sides spinning; beside this same process idle before any
// host existed. Wake-ups: voluntary context switches of every thread of this process and
// of its children, per second (each is a sleep that ended).
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
  /** The children's share of cpuPercent. */
  childrenCpuPercent: number;
  wakeUpsPerSecond: number;
}

/** One process's CPU time (µs) and voluntary context switches, summed over its threads. */
interface Counters {
  cpuUs: number;
  wakeUps: number;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return ''; // the thread or process ended meanwhile
  }
}

/** The /proc directories of the threads of `pid`. */
function threads(pid: number | 'self'): string[] {
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

function counters(pid: number | 'self'): Counters {
  let cpuUs = 0;
  let wakeUps = 0;
  for (const dir of threads(pid)) {
    cpuUs += threadCpuUs(dir);
    wakeUps += Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(read(`${dir}/status`))?.[1] ?? 0);
  }
  return { cpuUs, wakeUps };
}

/** This process's children: a process host's workers and its standby. */
function children(): number[] {
  return threads('self').flatMap((dir) => read(`${dir}/children`).split(' ').filter((pid) => pid !== '').map(Number));
}

/** CPU and wake-ups while this process sleeps IDLE_MS, its children included (those that
 *  lived through the whole window). */
async function idle(): Promise<Idle> {
  const kids = new Map(children().map((pid) => [pid, counters(pid)]));
  const wakeUps = counters('self').wakeUps;
  const cpu = process.cpuUsage();
  const t = performance.now();
  await sleep(IDLE_MS);
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - t;
  let childrenUs = 0;
  let woken = counters('self').wakeUps - wakeUps;
  for (const [pid, before] of kids) {
    const after = counters(pid);
    if (after.cpuUs === 0) continue; // gone
    childrenUs += after.cpuUs - before.cpuUs;
    woken += after.wakeUps - before.wakeUps;
  }
  const percent = (us: number): number => r3((100 * us) / (ms * 1000));
  return { cpuPercent: percent(used.user + used.system + childrenUs), childrenCpuPercent: percent(childrenUs), wakeUpsPerSecond: r3(woken / (ms / 1000)) };
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
  threadHostWakeUpsPerSecond: thread.started.wakeUpsPerSecond,
  threadHostAfterBurstCpuPercent: thread.afterBurst.cpuPercent,
  processHostCpuPercent: processHost.started.cpuPercent,
  processChildrenCpuPercent: processHost.started.childrenCpuPercent,
  processHostWakeUpsPerSecond: processHost.started.wakeUpsPerSecond,
  processHostAfterBurstCpuPercent: processHost.afterBurst.cpuPercent,
  loadAvg1: r3(loadavg()[0]!),
  target: 'threadHostCpuPercent < 0.1 and processHostCpuPercent < 0.1 (children included; beside noHostCpuPercent)',
});
