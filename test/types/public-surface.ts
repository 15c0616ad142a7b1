// Compile-only checks (npm test compiles them first; nothing here runs): what a user can
// and cannot write against a host. Each @ts-expect-error fails the build once the line
// compiles. The same checks against the published .d.ts: test/consumer.test.ts.
import {
  AddonHost, IsolatedHost, IsoswapError, type CallOptions, type IsoswapErrorDetails, type PrototypeArguments, type PrototypeResult, type UntypedAddon,
} from '../../src/index.js';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
type Expect<T extends true> = T;

type Typed = IsolatedHost<{ readonly do_tick: 'int32_t do_tick(int32_t)' }>;
/** A header function picked by name (`functions: { tick: 'do_tick' }`): its types are not known. */
type Picked = IsolatedHost<{ readonly tick: 'do_tick' }>;

export async function names(host: Typed, picked: Picked, untyped: IsolatedHost): Promise<void> {
  const n: number = await host.call('do_tick', 1);
  const m: number = await host.callWith({ timeoutMs: 5 }, 'do_tick', 1);
  // @ts-expect-error an undeclared name
  await host.call('do_tikc', 1);
  // @ts-expect-error an undeclared name, blocking
  host.callSync('do_tikc', 1);
  // @ts-expect-error an undeclared name through callWith
  await host.callWith({}, 'do_tikc', 1);
  // @ts-expect-error host.fns has the declared names only
  await host.fns.do_tikc(1);
  // @ts-expect-error the options come first (a trailing object is an argument)
  await host.callWith('do_tick', 1, { timeoutMs: 5 });
  // A name pick: any arguments, an `unknown` result (`isoswap types` writes the prototypes)
  const r: unknown = await picked.call('tick', 1, 2);
  // @ts-expect-error unknown is not a number until checked
  const p: number = await picked.call('tick', 1);
  // An untyped table: any name (refused at run time when not declared)
  await untyped.call('anything', 1);
  void [n, m, r, p];
}

export type Picks = [
  Expect<Equal<PrototypeResult<'do_tick'>, unknown>>,
  Expect<Equal<PrototypeArguments<'do_tick'>, unknown[]>>,
];

export async function lifecycle(host: Typed, addon: AddonHost<UntypedAddon>): Promise<void> {
  // @ts-expect-error reload() records its own reason: 'reload'
  await host.reload('rollback');
  // @ts-expect-error the same on an addon host
  await addon.reload('rollback');
  await host.close({ force: true });
  await addon.close({ force: false });
  // @ts-expect-error close takes { force }
  await host.close({ forse: true });
  const dispose: () => Promise<void> = host[Symbol.asyncDispose];
  const disposeAddon: () => Promise<void> = addon[Symbol.asyncDispose];
  const options: CallOptions = { signal: AbortSignal.timeout(10), timeoutMs: 0 };
  await addon.callWith(options, 'tick', 1);
  void [dispose, disposeAddon];
}

export function construction(): void {
  // @ts-expect-error hosts are made by createIsolatedHost
  void new IsolatedHost();
  // @ts-expect-error hosts are made by createAddonHost
  void new AddonHost();
  // @ts-expect-error nor subclassed
  class Mine extends IsolatedHost {}
  void Mine;
}

export function details(err: unknown): void {
  if (!(err instanceof IsoswapError)) return;
  // @ts-expect-error details.started exists on ERR_CALL_ABORTED only
  const unsure: boolean = err.details.started;
  if (err.code === 'ERR_CALL_ABORTED') {
    const started: boolean = err.details.started;
    const fn: string = err.details.function;
    void [started, fn];
  }
  if (err.code === 'ERR_INVALID_OPTIONS') {
    const option: string = err.details.option;
    void option;
  }
  if (err.code === 'ERR_HOST_CLOSED') {
    const forced: boolean | undefined = err.details.forced;
    void forced;
  }
  const other: unknown = err.details['anything']; // every code may carry more facts
  void [unsure, other];
  // An error is made with the details its code promises
  // @ts-expect-error ERR_CALL_ABORTED carries `started`
  void new IsoswapError('ERR_CALL_ABORTED', 'aborted', { function: 'tick' });
  // @ts-expect-error and cannot go without details
  void new IsoswapError('ERR_INVALID_OPTIONS', 'invalid');
  void new IsoswapError('ERR_BUILD_FAILED', 'a code without stable details takes none');
}

export type Details = [
  Expect<Equal<IsoswapErrorDetails<'ERR_CALL_ABORTED'>['started'], boolean>>,
  Expect<Equal<IsoswapErrorDetails<'ERR_BUILD_FAILED'>, Record<string, unknown>>>,
];
