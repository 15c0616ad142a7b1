import { IsoswapError } from '../errors.js';
import type { FunctionTable, HeaderRequest } from '../options.js';
import { headerFunctions } from './function-table.js';

/**
 * The function table of a new build, read from the header at the swap, so that it
 * matches the build about to load. Rejects with ERR_SIGNATURE_CHANGED when a function the
 * serving version declares has another prototype (or is gone), unless
 * `allowSignatureChange`; functions the header adds are simply declared.
 */
export async function functionsForNewBuild(request: HeaderRequest, serving: FunctionTable | undefined): Promise<FunctionTable> {
  const next = await headerFunctions(request);
  if (serving === undefined || request.allowSignatureChange) return next;
  const changed = Object.keys(serving).filter((call) => next[call] !== serving[call]);
  if (changed.length === 0) return next;
  const describe = (call: string): string => `${call}: '${serving[call]}' → ${next[call] === undefined ? 'gone' : `'${next[call]}'`}`;
  throw new IsoswapError('ERR_SIGNATURE_CHANGED',
    `the new build of ${request.file} changes ${changed.map(describe).join('; ')}; the serving version serves on (pass allowSignatureChange: true to accept)`,
    { file: request.file, changed: changed.map((call) => ({ function: call, old: serving[call], new: next[call] ?? null })) });
}
