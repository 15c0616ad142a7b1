export { createIsolatedHost } from './host/create-isolated-host.js';
export { IsolatedHost, type HostFunctions } from './host/isolated-host.js';
export { IsoswapError, ERROR_CODES, type IsoswapErrorCode, type SerializedIsoswapError } from './errors.js';
export { HOST_EVENTS, type HostEventMap, type HostEventName, type SwapEvent, type SwapReason, type BeforeSwapEvent } from './events.js';
export type { IsolatedHostOptions, FunctionTable, Isolation } from './options.js';
export type { VersionInfo, VersionStatus } from './version/version-info.js';
export type { NativeArgument, NativeResult, PrototypeArguments, PrototypeName, PrototypeResult } from './library/prototype-types.js';
export { assertCompleteLibrary } from './library/library-check.js';
