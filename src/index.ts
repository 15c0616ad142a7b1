export { createIsolatedHost } from './host/create-isolated-host.js';
export { IsolatedHost, type HostFunctions } from './host/isolated-host.js';
export type { CallOptions, CloseOptions } from './host/call-options.js';
export {
  IsoswapError, ERROR_CODES, type IsoswapErrorCode, type IsoswapErrorDetails, type IsoswapErrorDetailsMap, type AnyIsoswapError, type CrashPhase,
} from './errors.js';
export { HOST_EVENTS, type HostEventMap, type HostEventName, type SwapEvent, type SwapReason, type BeforeSwapEvent } from './events.js';
export { DIAGNOSTICS_CHANNELS, type DiagnosticsMessages, type DiagnosticsHost, type FailedSwapReason } from './diagnostics.js';
export type { IsolatedHostOptions, FunctionTable, Isolation, OnPinned, CrashPolicyOptions } from './options.js';
export type { VersionInfo, VersionStatus } from './version/version-info.js';
export type { NativeArgument, NativeResult, PrototypeArguments, PrototypeName, PrototypeResult } from './library/prototype-types.js';
export { createAddonHost } from './addon/create-addon-host.js';
export { AddonHost, type AddonFunctionName, type UntypedAddon } from './addon/addon-host.js';
export type { AddonExports, AddonExport, AddonValues, Handle } from './addon/exports-proxy.js';
export type { AddonHostOptions } from './addon/addon-options.js';
export { PreparedSwap, type PrepareOptions } from './host/prepared-swap.js';
export { createFleet } from './fleet/create-fleet.js';
export { Fleet } from './fleet/fleet.js';
export { FLEET_EVENTS, type FleetEventMap, type FleetSwapResult, type FleetMemberStatus, type MemberCutOver } from './fleet/fleet-events.js';
export type { FleetOptions, FleetSwapOptions } from './fleet/fleet-options.js';
export type { SmokeCall } from './fleet/protocol.js';
export type { FleetMemberOptions, FleetTransport } from './options.js';
