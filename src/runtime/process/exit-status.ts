import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** How long to wait for a child whose pipe closed to become a zombie: its fds close a
 *  moment before the kernel records how it ended. */
const ZOMBIE_WAIT_MS = 200;

/** How a child ended, as its 'exit' event would say. */
export interface ExitStatus {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * How child `pid` ended, read from /proc before Node reaps it: a host blocked in
 * callSync sees the pipe close but cannot receive the 'exit' event. Null when it is not
 * known (not Linux, not a zombie within ~200 ms, already reaped).
 *
 * @example
 * const status = exitStatus(child.pid); // { exitCode: null, signal: 'SIGSEGV' }
 */
export function exitStatus(pid: number): ExitStatus | null {
  if (process.platform !== 'linux') return null;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = performance.now() + ZOMBIE_WAIT_MS;
  for (;;) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
    // Fields after the command name (which may hold spaces and parentheses): 3 is the
    // state, 52 the exit code in waitpid(2) form (Linux >= 3.5).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') {
      const wait = Number(fields[49]);
      if (!Number.isInteger(wait)) return null;
      const signo = wait & 0x7f;
      if (signo === 0) return { exitCode: (wait >> 8) & 0xff, signal: null };
      const signal = (Object.keys(constants.signals) as NodeJS.Signals[]).find((s) => constants.signals[s] === signo) ?? null;
      return { exitCode: null, signal };
    }
    if (performance.now() > end) return null;
    Atomics.wait(nap, 0, 0, 1);
  }
}
