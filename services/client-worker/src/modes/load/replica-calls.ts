import type { EchoClient } from '@echo-pair/common';

/** The calls one replica (one address of the server's name) carried so far, over all the run's clients. */
export interface ReplicaCalls {
  address: string;
  /** Calls sent to it, whatever their outcome (a call repeated on another replica counts once on each). */
  calls: number;
  /** Of those, the ones that failed on the transport (lost, timed out, not connected, refused while it drained). */
  failures: number;
}

type Counts = Pick<ReplicaCalls, 'calls' | 'failures'>;

/**
 * Calls per replica address over a run, sampled from the clients' `connectionInfo()` every
 * REPLICA_SAMPLE_MS, for the progress line. What a replica had carried at its last sample is kept
 * when its client drops it, so that the total of an address never goes down while replicas come
 * and go; calls between that sample and the drop are not counted. Why: docs/operations.md.
 */
export class ReplicaCallsTally {
  /** Counts of the replicas the clients have dropped, by address. */
  private readonly gone = new Map<string, Counts>();
  /** Each client's replicas at the last sample, by address. */
  private lastSeen: Array<Map<string, Counts>> = [];

  sample(clients: readonly EchoClient[]): void {
    this.lastSeen = clients.map((client, index) => {
      const current = new Map<string, Counts>();
      for (const { address, calls, failures } of client.connectionInfo().replicas) {
        current.set(address, { calls, failures });
      }
      for (const [address, last] of this.lastSeen[index] ?? []) {
        const now = current.get(address);
        // Gone, or a new replica of the same address (its counts started again).
        if (now === undefined || now.calls < last.calls || now.failures < last.failures) {
          add(this.gone, address, last);
        }
      }
      return current;
    });
  }

  /** Every address seen in the run, in numeric order, with what it carried so far. */
  totals(): ReplicaCalls[] {
    const totals = new Map<string, Counts>();
    for (const [address, counts] of this.gone) {
      add(totals, address, counts);
    }
    for (const replicas of this.lastSeen) {
      for (const [address, counts] of replicas) {
        add(totals, address, counts);
      }
    }
    return [...totals]
      .map(([address, { calls, failures }]) => ({ address, calls, failures }))
      .sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }));
  }
}

function add(counts: Map<string, Counts>, address: string, { calls, failures }: Counts): void {
  const known = counts.get(address);
  counts.set(address, { calls: (known?.calls ?? 0) + calls, failures: (known?.failures ?? 0) + failures });
}
