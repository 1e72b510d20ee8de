import { Logger } from '@nestjs/common';
import { backoffDelayMs } from '../backoff';
import type { ReconnectOptions } from '../echo-client-options';
import type { BalancedReplica } from './balanced-replica';

/**
 * Sets failing replicas aside while others can serve. A failure (a drop, a failed connect, a call
 * timed out) ejects a replica for a backoff that grows with its failures in a row, ended early by
 * a reply; a `SHUTTING_DOWN` drains it until it connects again.
 */
export class ReplicaEjection {
  private readonly logger = new Logger('EchoClient');

  constructor(
    private readonly policy: Required<ReconnectOptions>,
    private readonly random: () => number,
    /** Told when a replica serves again. */
    private readonly changed: () => void,
  ) {}

  /**
   * A failure of `member`, one of `replicas`: ejects it when another could serve meanwhile.
   * Failures while it is ejected already are the same episode (the calls in flight of one stall, say): not counted again.
   */
  strike(member: BalancedReplica, replicas: number): void {
    if (member.ejected) {
      return;
    }
    member.strikes += 1;
    if (replicas < 2) {
      return;
    }
    member.ejected = true;
    clearTimeout(member.ejectTimer);
    member.ejectTimer = setTimeout(
      () => {
        member.ejected = false;
        member.ejectTimer = undefined;
        this.changed();
      },
      backoffDelayMs(member.strikes, this.policy, this.random),
    ).unref();
  }

  /** A reply came on `member`: it serves again, whatever it failed before. */
  cleared(member: BalancedReplica): void {
    member.strikes = 0;
    if (member.ejected) {
      member.ejected = false;
      clearTimeout(member.ejectTimer);
      member.ejectTimer = undefined;
      this.changed();
    }
  }

  /** `member`, one of `replicas`, answered `SHUTTING_DOWN`: returns whether it was not draining already. */
  drain(member: BalancedReplica, replicas: number): boolean {
    if (member.draining) {
      return false;
    }
    member.draining = true;
    if (replicas > 1) {
      this.logger.log(`replica ${member.keeper.target} is shutting down: calls go to the others until it connects again`);
    }
    return true;
  }
}
