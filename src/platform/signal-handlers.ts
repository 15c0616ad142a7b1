import { readFileSync } from 'node:fs';
import { libcFunctions } from '../library/libc.js';

/** Linux's signals: 1 to SIGRTMAX. */
const LAST_SIGNAL = 64;
/** struct sigaction, with room to spare; its first member is the handler (a union with
 *  sa_sigaction, the same word). */
const SIGACTION_BYTES = 256;
/** SIG_DFL and SIG_IGN: no code to run. */
const NO_HANDLER = 1n;

/**
 * The signals whose handler, installed process-wide, is code of the library mapped from
 * `copy`: unmapping that copy would make the next such signal jump into nothing (a
 * segfault of the whole program in thread isolation). Linux's half of the platform's
 * `signalHandlersIn`.
 */
export function linuxSignalHandlersIn(copy: string): number[] {
  const ranges = mappedRanges(copy);
  if (ranges.length === 0) return [];
  const { sigaction } = libcFunctions();
  const old = new Uint8Array(SIGACTION_BYTES);
  const view = new DataView(old.buffer);
  const found: number[] = [];
  for (let signal = 1; signal <= LAST_SIGNAL; signal++) {
    if (sigaction(signal, null, old) !== 0) continue; // reserved by the C library, or none
    const handler = view.getBigUint64(0, true);
    if (handler > NO_HANDLER && ranges.some(([start, end]) => handler >= start && handler < end)) found.push(signal);
  }
  return found;
}

/** The address ranges /proc/self/maps shows for `path`. Only the lines that end with it
 *  are cut out: splitting every line of a process's maps at each retirement (thousands of
 *  lines, more with every swap) grew the V8 heap by tens of KB per swap. */
function mappedRanges(path: string): Array<[bigint, bigint]> {
  const ranges: Array<[bigint, bigint]> = [];
  let maps: string;
  try {
    maps = readFileSync('/proc/self/maps', 'utf8');
  } catch {
    return ranges; // no fd left (EMFILE): nothing can be looked at
  }
  const suffix = ` ${path}\n`;
  for (let at = maps.indexOf(suffix); at >= 0; at = maps.indexOf(suffix, at + suffix.length)) {
    const line = maps.slice(maps.lastIndexOf('\n', at) + 1, at);
    const dash = line.indexOf('-');
    const space = line.indexOf(' ');
    ranges.push([BigInt(`0x${line.slice(0, dash)}`), BigInt(`0x${line.slice(dash + 1, space)}`)]);
  }
  return ranges;
}
