// The DLLs the Windows lane's tests load, as C sources and mingw flags. The lane builds
// them on Linux with x86_64-w64-mingw32-gcc before Windows Node starts (there is no
// compiler inside Wine); the tests find them in ISOSWAP_WINDOWS_FIXTURES.
import { join } from 'node:path';
import { cStarter } from '../../src/cli/starters/c.js';
import { platformOf } from '../../src/platform/platform.js';
import { RING_TYPES_SOURCE } from '../helpers/ring-types-fixture.js';

export interface DllFixture {
  /** C source, or the path of a C file of the repository (`{root}/test/fixtures/addon.c`). */
  source: string;
  /** Extra gcc arguments (after the source); `{dir}` is the fixtures directory, `{root}`
   *  the repository (node-api-headers is in its node_modules). */
  flags?: string[];
  /** Not a DLL: built without -shared. */
  executable?: boolean;
  /** The file name's ending: `.dll` unless said (`.node` for an addon, `.exe`). */
  extension?: string;
}

/** A Node-API addon: a DLL that imports napi_* from node.exe, through the import library
 *  the lane makes from node-api-headers' def file (`{dir}/libnode_api.a`). */
const addon = (build: number): DllFixture => ({
  source: '{root}/test/fixtures/addon.c',
  flags: [`-DBUILD=${build}`, '-I{root}/node_modules/node-api-headers/include', '-L{dir}', '-lnode_api'],
  extension: '.node',
});

const tick = (k: number): string => `#include <stdint.h>
int32_t do_tick(int32_t x) { return x + ${k}; }
int32_t version(void) { return ${k}; }
`;

/** Version 1 leaves exports to mingw (every function); version 2 marks each one with
 *  ISOSWAP_EXPORT, as an MSVC build must, so that only the marked ones are exported. */
const stateSource = (k: number): string => {
  const ex = k === 1 ? '' : 'ISOSWAP_EXPORT ';
  return `#include <stdint.h>
#include "isoswap.h"
ISOSWAP_STATE static int32_t counter;
ISOSWAP_STATE static int32_t loads;
${ex}int32_t bump(void) { return ++counter; }
${ex}int32_t version(void) { return ${k}; }
${ex}int32_t loads_seen(void) { return loads; }
${ex}int32_t isoswap_load(void *state, uint32_t bytes) {
  loads++;
  if (state != 0 && bytes >= 4) ((int32_t *)state)[0] += ${k};
  return 0;
}
${ex}void isoswap_unload(void *state, uint32_t bytes) {
  if (state != 0 && bytes >= 8) ((int32_t *)state)[1] += 1;
}
`;
};

/** Prints through msvcrt: a line flushed at each call, one on stderr, and one left in
 *  stdout's buffer when it is unloaded (isoswap run's output capture). */
const chattySource = (k: number): string => `#include <stdint.h>
#include <stdio.h>
int32_t do_tick(int32_t x) { printf("tick %d from ${k}\\n", x); fflush(stdout); fprintf(stderr, "warn ${k}\\n"); return x + ${k}; }
void isoswap_unload(void *state, uint32_t bytes) { printf("unloading ${k}\\n"); }
`;

function crashSource(k: number, crashes: boolean): string {
  return `#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>
int32_t do_tick(int32_t x) { return x + ${k}; }
int32_t version(void) { return ${k}; }
${crashes ? `int32_t crash_null(int32_t x) { volatile int32_t *p = 0; return *p + x; }
int32_t do_abort(void) { abort(); return 0; }
static int32_t deeper(int32_t depth) { volatile int32_t here = depth; return deeper(depth + 1) + here; }
int32_t overflow(void) { return deeper(0); }
int32_t hang(void) { for (;;) Sleep(1000); return 0; }
int32_t hang_after(const char *started) { FILE *f = fopen(started, "w"); if (f) fclose(f); for (;;) Sleep(1000); return 0; }` : `int32_t crash_null(int32_t x) { return x; }
int32_t do_abort(void) { return 0; }
int32_t overflow(void) { return 0; }
int32_t hang(void) { return 0; }
int32_t hang_after(const char *started) { return started == 0; }`}
`;
}

/** A user at a console, for the CLI's Ctrl-C (Node's kill('SIGINT') terminates a Windows
 *  process outright): `ctrlc.exe <trigger> <output> <command line>` runs the command in a
 *  console of its own, its output in a file, presses Ctrl-C there once <trigger> exists,
 *  and exits with the command's exit code. */
const CTRLC_SOURCE = `// ctrlc.exe <trigger-file> <output-file> <command line>: runs the command in a console of
// its own, its output in <output-file>; once <trigger-file> exists, presses Ctrl-C in that
// console (as a user would), then exits with the command's exit code.
#include <windows.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  SECURITY_ATTRIBUTES inherit = { sizeof inherit, NULL, TRUE };
  HANDLE out = CreateFileA(argv[2], GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, CREATE_ALWAYS, 0, NULL);
  if (out == INVALID_HANDLE_VALUE) return 3;
  char line[32768];
  lstrcpynA(line, argv[3], sizeof line);
  STARTUPINFOA si = { sizeof si };
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = NULL;
  si.hStdOutput = out;
  si.hStdError = out;
  PROCESS_INFORMATION pi;
  if (!CreateProcessA(NULL, line, NULL, NULL, TRUE, CREATE_NEW_CONSOLE, NULL, NULL, &si, &pi)) return 4;
  while (GetFileAttributesA(argv[1]) == INVALID_FILE_ATTRIBUTES) {
    if (WaitForSingleObject(pi.hProcess, 50) == WAIT_OBJECT_0) break;
  }
  FreeConsole();
  if (AttachConsole(pi.dwProcessId)) {
    SetConsoleCtrlHandler(NULL, TRUE);
    GenerateConsoleCtrlEvent(CTRL_C_EVENT, 0);
  } else fprintf(stderr, "AttachConsole failed: %lu\\n", GetLastError());
  if (WaitForSingleObject(pi.hProcess, 30000) != WAIT_OBJECT_0) { TerminateProcess(pi.hProcess, 9); return 5; }
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  return (int)code;
}
`;

/** name (without `.dll`) → how it is built. */
export const DLL_FIXTURES: Record<string, DllFixture> = {
  tick1: { source: tick(1) },
  tick2: { source: tick(2) },
  tick3: { source: tick(3) },
  chatty1: { source: chattySource(1) },
  chatty2: { source: chattySource(2) },
  helper: { source: '#include <stdint.h>\nint32_t helper_value(void) { return 40; }\n' },
  // Imports helper.dll: loads only where helper.dll is found beside it.
  sibling: {
    source: '#include <stdint.h>\n__declspec(dllimport) int32_t helper_value(void);\nint32_t do_tick(int32_t x) { return x + helper_value(); }\nint32_t version(void) { return 7; }\n',
    flags: ['-L{dir}', '-lhelper'],
  },
  state1: { source: stateSource(1) },
  state2: { source: stateSource(2) },
  // Stripped: the linker cuts the section's name to 8 bytes (`isoswap_`).
  state2stripped: { source: stateSource(2), flags: ['-s'] },
  // The same exports twice: version 1 never crashes, version 2 does what each name says.
  safe: { source: crashSource(1, false) },
  crash: { source: crashSource(2, true) },
  ctrlc: { source: CTRLC_SOURCE, executable: true, extension: '.exe' },
  notadll: { source: tick(1).concat('int main(void) { return 0; }\n'), executable: true, extension: '.exe' },
  // What `isoswap init --lang c` writes on Windows, built as its package.json says.
  starter: { source: cStarter(platformOf('win32')).files['game.c']! },
  // One function per type the call ring carries (the Linux ring tests' library).
  ringtypes: { source: RING_TYPES_SOURCE },
  // Nine arguments: more than a ring slot holds, so callSync must take the blocking pipes.
  wide: { source: '#include <stdint.h>\nint32_t sum9(int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h, int32_t i) { return a + b + c + d + e + f + g + h + i; }\n' },
  addon1: addon(1),
  addon2: addon(2),
};

/** Where the lane put fixture `name` (a file name with its extension). */
export function fixturePath(name: string): string {
  const dir = process.env.ISOSWAP_WINDOWS_FIXTURES;
  if (dir === undefined) throw new Error('ISOSWAP_WINDOWS_FIXTURES is not set: run npm run test:windows');
  return join(dir, name);
}
