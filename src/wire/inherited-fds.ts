import type { StdioOptions } from 'node:child_process';

type StdioEntry = Extract<StdioOptions, unknown[]>[number];

/** The environment variable that tells a child which inherited fd is which: `state=6,ring=7`. */
const FDS_VARIABLE = 'ISOSWAP_FDS';

/** What a child process gets besides its stdio: named descriptors of the host, and
 *  environment variables. */
export interface ChildExtras {
  /** Name → the host's fd; the child finds it with {@link inheritedFd}(name). */
  fds?: Readonly<Record<string, number>>;
  env?: Readonly<Record<string, string>>;
}

/**
 * Appends `extras.fds` to a fork's stdio (each takes the next child fd number) and
 * returns the stdio and env to fork with. Node dup2's each into place in the child,
 * which clears close-on-exec there.
 */
export function withExtras(stdio: StdioEntry[], extras: ChildExtras): { stdio: StdioEntry[]; env: NodeJS.ProcessEnv } {
  const entries = Object.entries(extras.fds ?? {});
  const env: NodeJS.ProcessEnv = { ...process.env, ...extras.env };
  // Never the variable this process itself inherited: its numbers mean nothing in the child.
  if (entries.length > 0) env[FDS_VARIABLE] = entries.map(([name], i) => `${name}=${stdio.length + i}`).join(',');
  else delete env[FDS_VARIABLE];
  return { stdio: [...stdio, ...entries.map(([, fd]) => fd)], env };
}

/**
 * In a child: the fd the host passed under `name`, or undefined.
 */
export function inheritedFd(name: string): number | undefined {
  for (const pair of (process.env[FDS_VARIABLE] ?? '').split(',')) {
    const [key, fd] = pair.split('=');
    if (key === name && fd !== undefined) return Number(fd);
  }
  return undefined;
}
