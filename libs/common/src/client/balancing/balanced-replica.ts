import type { Subscription } from 'rxjs';
import type { ConnectionState } from '../connection-info';
import { Replica } from '../replica';

/** A replica of a balanced pool: a `Replica`, with what its ejection, retirement and state watch keep. */
export class BalancedReplica extends Replica {
  /** Failure episodes (drops, failed connects, timeouts) since its last reply: set the length of its ejection. */
  strikes = 0;
  ejectTimer?: NodeJS.Timeout;
  retireTimer?: NodeJS.Timeout;
  /** Its keeper's state when last seen, to tell a drop or a failed attempt from other changes. */
  lastState: ConnectionState = 'idle';
  subscription?: Subscription;
}
