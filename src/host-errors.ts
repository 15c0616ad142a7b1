import { IsoswapError } from './errors.js';

export const hostClosed = (what: string): IsoswapError =>
  new IsoswapError('ERR_HOST_CLOSED', `${what}: the host is closed`);

export const unknownFunction = (name: string, declared: string[]): IsoswapError =>
  new IsoswapError('ERR_UNKNOWN_FUNCTION', `unknown function ${name}: declared are ${declared.join(', ') || 'none'}`, { function: name });

export const swapInProgress = (what: string): IsoswapError =>
  new IsoswapError('ERR_SWAP_IN_PROGRESS', `${what}: a swap is in progress (a state-block hand-over, or the restart of a crashed version) and needs the event loop callSync would block; retry after it (await host.call waits instead)`);

export const loadHookRefused = (library: string, id: number, code: number): IsoswapError =>
  new IsoswapError('ERR_LOAD_HOOK', `isoswap_load of ${library} (version ${id}) refused it with ${code}`, { file: library, version: id, result: code });
