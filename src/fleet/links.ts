import type { FleetTransport } from '../options.js';
import { ClusterCoordinatorLink, ClusterMemberLink } from './cluster-link.js';
import type { CoordinatorLink, MemberLink } from './protocol.js';
import { RedisCoordinatorLink, RedisMemberLink } from './redis-link.js';

/** Each transport's two ends behind the protocol's interfaces (docs/fleet.md). */
export async function memberLink(transport: FleetTransport): Promise<MemberLink> {
  return transport === 'cluster' ? ClusterMemberLink.open() : RedisMemberLink.open(transport.redis, transport.group);
}

export async function coordinatorLink(transport: FleetTransport, leaseMs: number): Promise<CoordinatorLink> {
  return transport === 'cluster' ? ClusterCoordinatorLink.open() : RedisCoordinatorLink.open(transport.redis, transport.group, leaseMs);
}
