import { platform } from '../platform/platform.js';
import { readBuild } from './fleet-build.js';
import { Fleet } from './fleet.js';
import { resolveFleetOptions, type FleetOptions } from './fleet-options.js';
import { coordinatorLink } from './links.js';

/**
 * Coordinates a fleet of hosts (each made with `createIsolatedHost({ …, fleet })`) and
 * resolves once `members` of them serve. The bytes at `library` now are the fleet's build
 * unless the fleet already has one (Redis: a coordinator started again). See docs/fleet.md.
 *
 * @example
 * const fleet = await createFleet({ transport: 'cluster', library: './libgame.so', members: 4 });
 * await fleet.swap();
 */
export async function createFleet(options: FleetOptions): Promise<Fleet> {
  platform(); // ERR_UNSUPPORTED_PLATFORM where isoswap has no platform layer (macOS)
  const opts = resolveFleetOptions(options);
  const build = await readBuild(opts.library);
  const link = await coordinatorLink(opts.transport, opts.leaseMs);
  try {
    await link.store(build.sha256, build.bytes);
    const fleet = new Fleet(link, opts, await link.initial(build.sha256));
    await fleet.start();
    return fleet;
  } catch (err) {
    await link.close();
    throw err;
  }
}
