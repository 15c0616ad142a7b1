import { randomBytes } from 'node:crypto';
import koffi from 'koffi';
import { IsoswapError } from '../errors.js';
import { kernel32 } from './kernel32.js';

// What process isolation shares with a child on Windows, where nothing is inherited by
// descriptor: memory, events and pipes made by the host under a name the child is told.

const INVALID_HANDLE_VALUE = -1;
const PAGE_READWRITE = 0x04;
const FILE_MAP_ALL_ACCESS = 0xf001f;
const EVENT_MODIFY_STATE = 0x0002;
const SYNCHRONIZE = 0x00100000;
const WAIT_OBJECT_0 = 0;
const PIPE_ACCESS_INBOUND = 0x1;
const PIPE_ACCESS_OUTBOUND = 0x2;
const PIPE_NOWAIT = 1;
const ERROR_PIPE_CONNECTED = 535;
const ERROR_NO_DATA = 232;
const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const STILL_ACTIVE = 259;

let made = 0;

/**
 * A name no other object of this machine has: the host's pid, a counter, and random bytes
 * (a name squatted by another process would hand it the child's memory).
 */
export function uniqueName(what: string): string {
  return `isoswap-${process.pid}-${++made}-${randomBytes(6).toString('hex')}-${what}`;
}

/** A view of shared memory made or opened by name. */
export interface NamedMemory {
  /** The same memory as an ArrayBuffer (koffi.view: no copy). */
  readonly buffer: ArrayBuffer;
  /** Its address, as koffi passes a `void *`. */
  readonly pointer: unknown;
  /** Unmaps the view (every view over `buffer` must be dropped first) and lets go of the
   *  name: the memory goes with its last view. */
  close(): void;
}

/**
 * Pagefile-backed memory of `bytes` named `name` (committed now: ERR_STATE_ALLOC when it
 * cannot be had), or with `open`, the memory another process made under that name
 * (ERR_STATE_MAP when there is none).
 */
export function namedMemory(name: string, bytes: number, how: 'create' | 'open'): NamedMemory {
  const k = kernel32();
  const mapping = how === 'create'
    ? k.createFileMapping(INVALID_HANDLE_VALUE, null, PAGE_READWRITE, 0, bytes, `Local\\${name}`)
    : k.openFileMapping(FILE_MAP_ALL_ACCESS, 0, `Local\\${name}`);
  if (mapping === null) {
    const code = how === 'create' ? 'ERR_STATE_ALLOC' : 'ERR_STATE_MAP';
    throw new IsoswapError(code, `cannot ${how} the shared memory ${name} (${bytes} bytes): Windows error ${k.getLastError()}`, { bytes, name });
  }
  const pointer = k.mapViewOfFile(mapping, FILE_MAP_ALL_ACCESS, 0, 0, bytes);
  if (pointer === null) {
    const error = k.getLastError();
    k.closeHandle(mapping);
    throw new IsoswapError('ERR_STATE_MAP', `cannot map the shared memory ${name} (${bytes} bytes): Windows error ${error}`, { bytes, name });
  }
  let open = true;
  return {
    buffer: koffi.view(pointer, bytes),
    pointer,
    close() {
      if (!open) return;
      open = false;
      k.unmapViewOfFile(pointer);
      k.closeHandle(mapping);
    },
  };
}

/** An auto-reset event shared by name: a set with nobody waiting stays set until the next
 *  wait, so a wake-up is never lost (a waiter looks at its word again anyway). */
export interface NamedEvent {
  set(): void;
  /** Waits until set, at most `ms`; true when it was set. */
  wait(ms: number): boolean;
  close(): void;
}

/**
 * Makes (`create`) or opens an event named `name`; null when Windows refuses.
 */
export function namedEvent(name: string, how: 'create' | 'open'): NamedEvent | null {
  const k = kernel32();
  const handle = how === 'create' ? k.createEvent(null, 0, 0, `Local\\${name}`) : k.openEvent(EVENT_MODIFY_STATE | SYNCHRONIZE, 0, `Local\\${name}`);
  if (handle === null) return null;
  let open = true;
  return {
    set: () => { if (open) k.setEvent(handle); },
    wait: (ms) => open && k.waitForSingleObject(handle, Math.max(0, Math.ceil(ms))) === WAIT_OBJECT_0,
    close() {
      if (open) k.closeHandle(handle);
      open = false;
    },
  };
}

/** The path of the named pipe `name`, as CreateFileW (and Node's fs and net) open it. */
export function pipePath(name: string): string {
  return `\\\\.\\pipe\\${name}`;
}

/** The host's end of a one-way named pipe, read or written through kernel32 without ever
 *  waiting (PIPE_NOWAIT): a child that never came, or died, cannot hang the host. */
export interface HostPipe {
  /** Bytes that can be read now; 0 while the child has not opened its end; -1 once its end
   *  is closed and nothing is left (the child died). */
  available(): number;
  /** Reads up to `out.length` bytes of those available. */
  read(out: Uint8Array): number;
  /** Writes what the pipe takes now (`bytes` from `at`); -1 once the child's end is closed. */
  writeSome(bytes: Uint8Array, at: number): number;
  close(): void;
}

/**
 * A named pipe the child opens (Node's fs or net, by {@link pipePath}) after the host made
 * it: `in` carries bytes child → host, `out` host → child. Null when Windows refuses.
 */
export function hostPipe(name: string, direction: 'in' | 'out', bufferBytes = 65536): HostPipe | null {
  const k = kernel32();
  const handle = k.createNamedPipe(pipePath(name), direction === 'in' ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND,
    PIPE_NOWAIT, 1, bufferBytes, bufferBytes, 0, null);
  if (handle === null || koffi.address(handle) === 0xffff_ffff_ffff_ffffn) return null;
  let open = true;
  let state: 'waiting' | 'connected' | 'gone' = 'waiting';
  const count = new Uint32Array(1);
  /** The child opens its end right after it starts (ConnectNamedPipe does not wait here). */
  const connect = (): typeof state => {
    if (state !== 'waiting') return state;
    const error = k.connectNamedPipe(handle, null) !== 0 ? ERROR_PIPE_CONNECTED : k.getLastError();
    if (error === ERROR_PIPE_CONNECTED) state = 'connected';
    else if (error === ERROR_NO_DATA) state = 'gone'; // came and went
    return state;
  };
  return {
    available() {
      if (!open) return -1;
      const now = connect();
      if (now !== 'connected') return now === 'gone' ? -1 : 0;
      return k.peekNamedPipe(handle, null, 0, null, count, null) === 0 ? -1 : count[0]!;
    },
    read(out) {
      if (!open || connect() !== 'connected') return 0;
      return k.readFile(handle, out, out.length, count, null) === 0 ? 0 : count[0]!;
    },
    writeSome(bytes, at) {
      if (!open) return -1;
      const now = connect();
      if (now !== 'connected') return now === 'gone' ? -1 : 0;
      const chunk = bytes.subarray(at);
      if (k.writeFile(handle, chunk, chunk.length, count, null) !== 0) return count[0]!;
      return k.getLastError() === ERROR_NO_DATA ? -1 : 0; // closed by the child; else full
    },
    close() {
      if (open) k.closeHandle(handle);
      open = false;
    },
  };
}

/**
 * Whether process `pid` still runs (a handle waited on without waiting), and its exit
 * code once it ended (null while it runs or when it cannot be opened).
 */
export function processState(pid: number): { runs: boolean; exitCode: number | null } {
  const k = kernel32();
  const handle = k.openProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
  if (handle === null) return { runs: false, exitCode: null };
  try {
    const code = new Uint32Array(1);
    if (k.getExitCodeProcess(handle, code) === 0) return { runs: true, exitCode: null };
    // STILL_ACTIVE may also be a real exit code: the handle says for sure
    if (code[0] === STILL_ACTIVE && k.waitForSingleObject(handle, 0) !== WAIT_OBJECT_0) return { runs: true, exitCode: null };
    return { runs: false, exitCode: code[0]! }; // unsigned, as Node reports it
  } finally {
    k.closeHandle(handle);
  }
}
