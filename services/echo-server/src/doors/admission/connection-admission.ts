import { addressKey } from './address-key';

/** The limits of one door: its global cap and the per-address one (0: none). */
export interface AdmissionLimits {
  maxConnections: number;
  maxPerAddress: number;
}

/** One admitted connection, as the admission keeps it. */
export interface AdmittedConnection {
  /** The address key it counts against (see `addressKey`). */
  readonly key: string;
  /** `performance.now()` of its last complete line or frame, or of its opening. */
  lastActive: number;
}

export type Admission =
  | { admitted: true; connection: AdmittedConnection; evicted?: AdmittedConnection }
  | { admitted: false; limit: 'MAX_CONNECTIONS_PER_ADDRESS'; key: string; max: number };

interface Entry extends AdmittedConnection {
  readonly giveWay: (connection: AdmittedConnection) => void;
  released: boolean;
}

/**
 * Who may connect to one door: at most `maxPerAddress` connections per address key, and at the
 * global cap the longest-idle connection gives way to the newcomer, so neither silent nor
 * dripping connections can lock others out (only complete lines and frames count as activity).
 * The longest-idle connection is found by a scan, paid only at the cap, so that marking activity
 * on every message stays one property write.
 */
export class ConnectionAdmission {
  private readonly open = new Set<Entry>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly limits: AdmissionLimits) {}

  get openConnections(): number {
    return this.open.size;
  }

  /** Connections open from the address key of `address`. */
  openFrom(address: string | undefined): number {
    return this.perAddress.get(addressKey(address)) ?? 0;
  }

  /**
   * Admits a connection from `address`, or says which limit refuses it. At the global cap the
   * longest-idle connection is released and told to `giveWay` (it closes itself) before this returns.
   */
  admit(address: string | undefined, giveWay: (connection: AdmittedConnection) => void): Admission {
    const key = addressKey(address);
    const fromAddress = this.perAddress.get(key) ?? 0;
    const { maxPerAddress, maxConnections } = this.limits;
    if (maxPerAddress > 0 && fromAddress >= maxPerAddress) {
      return { admitted: false, limit: 'MAX_CONNECTIONS_PER_ADDRESS', key, max: maxPerAddress };
    }
    const evicted = this.open.size >= maxConnections ? this.longestIdle() : undefined;
    if (evicted !== undefined) {
      this.release(evicted);
      evicted.giveWay(evicted);
    }
    const entry: Entry = { key, lastActive: performance.now(), giveWay, released: false };
    this.open.add(entry);
    this.perAddress.set(key, (this.perAddress.get(key) ?? 0) + 1);
    return evicted === undefined ? { admitted: true, connection: entry } : { admitted: true, connection: entry, evicted };
  }

  /** The connection closed (or gave way); a second call does nothing. */
  release(connection: AdmittedConnection): void {
    const entry = connection as Entry;
    if (entry.released) {
      return;
    }
    entry.released = true;
    this.open.delete(entry);
    const left = (this.perAddress.get(entry.key) ?? 1) - 1;
    if (left === 0) {
      this.perAddress.delete(entry.key);
    } else {
      this.perAddress.set(entry.key, left);
    }
  }

  private longestIdle(): Entry | undefined {
    let oldest: Entry | undefined;
    for (const entry of this.open) {
      if (oldest === undefined || entry.lastActive < oldest.lastActive) {
        oldest = entry;
      }
    }
    return oldest;
  }
}
