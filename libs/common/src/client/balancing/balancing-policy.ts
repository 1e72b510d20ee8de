import type { BalancedReplica } from './balanced-replica';

/**
 * The choice of a replica per call: least in flight, ties broken round robin (the scan starts
 * after the replica picked last), passing over retiring and disconnected ones, and preferring
 * replicas that are neither `avoid` (where the call just failed) nor ejected nor draining, but
 * taking one of those rather than none. One scan per call, no allocation.
 */
export class BalancingPolicy {
  private cursor = 0;

  pick(members: readonly BalancedReplica[], avoid?: BalancedReplica): BalancedReplica | undefined {
    const count = members.length;
    if (count === 1) {
      const only = members[0];
      return only.keeper.state === 'connected' && !only.retiring ? only : undefined;
    }
    let best: BalancedReplica | undefined;
    let bestRank = 0;
    let bestIndex = 0;
    // The scan starts after the replica picked last: among equals, the one that waited longest wins,
    // whichever replicas are passed over (a scan from a rotating start would give the replica after
    // a disconnected one a double share).
    const start = this.cursor < count ? this.cursor : 0;
    for (let step = 0; step < count; step += 1) {
      const index = start + step < count ? start + step : start + step - count;
      const member = members[index];
      if (member.retiring || member.keeper.state !== 'connected') {
        continue;
      }
      const rank = (member === avoid ? 2 : 0) + (member.ejected || member.draining ? 1 : 0);
      if (best === undefined || rank < bestRank || (rank === bestRank && member.inFlight < best.inFlight)) {
        best = member;
        bestRank = rank;
        bestIndex = index;
      }
    }
    if (best !== undefined) {
      this.cursor = bestIndex + 1;
    }
    return best;
  }

  /** Whether a replica other than `failed` could take a call now, neither ejected nor draining: a repeat can go there at once. */
  hasAlternative(members: readonly BalancedReplica[], failed: BalancedReplica | undefined): boolean {
    return members.some(
      (member) => member !== failed && !member.retiring && !member.ejected && !member.draining && member.keeper.state === 'connected',
    );
  }
}
