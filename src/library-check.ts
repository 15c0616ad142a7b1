import elfy from 'elfy';
import { IsoswapError } from './errors.js';

// ELF e_machine names (as elfy spells them) for the process architectures Node runs on.
const MACHINE_OF_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'aarch64', ia32: '386', arm: 'arm', riscv64: 'riscv' };

/**
 * Throws ERR_NOT_A_LIBRARY unless `bytes` hold a whole shared library that this process
 * could `dlopen`. The check exists because glibc maps PT_LOAD segments straight from the
 * file: a half-written library whose headers promise bytes past EOF kills the whole
 * process with SIGBUS on first touch, worker thread or not.
 *
 * @example
 * assertCompleteLibrary(await readFile('libgame.so'), 'libgame.so');
 */
export function assertCompleteLibrary(bytes: Uint8Array, file: string): void {
  if (process.platform !== 'linux') {
    if (bytes.length === 0) throw notALibrary(file, 'the file is empty');
    return; // Mach-O and PE checks are not written yet: see docs/platforms.md
  }
  let elf: ReturnType<typeof elfy.parse>;
  try {
    elf = elfy.parse(bytes);
  } catch (err) {
    // elfy throws on a bad magic and on header tables that run past the end of the file
    // (the section headers are the last thing a linker writes).
    const why = (err as Error).message.includes('slice') ? 'it is incomplete (headers past the end of the file)' : (err as Error).message;
    throw notALibrary(file, why);
  }
  if (elf.type !== 'dyn') throw notALibrary(file, `its ELF type is '${elf.type}', not a shared object`);
  const machine = MACHINE_OF_ARCH[process.arch];
  if (machine !== undefined && elf.machine !== machine) {
    throw notALibrary(file, `it is built for ${elf.machine}, this process is ${process.arch}`);
  }
  const loads = elf.body.programs.filter((p) => p.type === 'load');
  if (loads.length === 0) throw notALibrary(file, 'it has no PT_LOAD segment');
  for (const seg of loads) {
    if (seg.offset + seg.filesz > bytes.length) {
      throw notALibrary(file, `it is incomplete: a PT_LOAD segment ends at byte ${seg.offset + seg.filesz}, the file has ${bytes.length}`);
    }
  }
}

function notALibrary(file: string, why: string): IsoswapError {
  return new IsoswapError('ERR_NOT_A_LIBRARY', `${file} is not a loadable shared library: ${why}`, { file });
}
