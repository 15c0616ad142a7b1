import type { Isolation } from '../options.js';
import type { LoadRequest } from '../protocol.js';
import { ProcessRuntime } from './process-runtime.js';
import { ThreadRuntime } from './thread-runtime.js';
import type { VersionRuntime } from './types.js';

/** Starts the runtime of the chosen isolation and loads a version into it. */
export function startRuntime(isolation: Isolation, request: LoadRequest, threads: number): Promise<VersionRuntime> {
  if (isolation === 'thread') return ThreadRuntime.start(request, threads);
  return ProcessRuntime.start(request, threads);
}
