import { IsoswapError } from '../errors.js';

/**
 * ERR_NOT_A_LIBRARY for `file`, saying why: the one error of every completeness check.
 */
export function notALibrary(file: string, why: string): IsoswapError {
  return new IsoswapError('ERR_NOT_A_LIBRARY', `${file} is not a loadable shared library: ${why}`, { file });
}
