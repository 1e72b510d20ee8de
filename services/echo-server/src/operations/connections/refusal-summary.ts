/** Distinct addresses counted per interval; further ones are counted together as `others`. */
const MAX_ADDRESSES = 10_000;
/** Addresses named in a summary line. */
const TOP_ADDRESSES = 5;
/** Events logged in full per interval by default before the rest are only counted (as printk's ratelimit burst). */
export const FULL_LINES_PER_INTERVAL = 5;

/**
 * Keeps the log of refusals readable under attack: the first `fullLines` events of an
 * interval (which the first event after a quiet one opens) are logged at once, in full; further
 * ones are counted, per reason and per address, and logged as one summary line when the interval
 * ends (which opens the next, so a sustained attack writes at most `fullLines` + 1
 * lines per interval). Memory is bounded by MAX_ADDRESSES.
 */
export class RefusalSummary {
  private readonly reasons = new Map<string, number>();
  private readonly addresses = new Map<string, number>();
  private others = 0;
  private total = 0;
  private logged = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly log: (line: string) => void,
    private readonly fullLines = FULL_LINES_PER_INTERVAL,
  ) {}

  /** One event: `reason` names its kind (e.g. `refused MAX_CONNECTIONS_PER_ADDRESS on text`), `line` describes it in full. */
  record(reason: string, address: string, line: string): void {
    if (this.timer === undefined) {
      this.openInterval();
    }
    if (this.logged < this.fullLines) {
      this.logged += 1;
      this.log(line);
      return;
    }
    this.total += 1;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
    const count = this.addresses.get(address);
    if (count !== undefined || this.addresses.size < MAX_ADDRESSES) {
      this.addresses.set(address, (count ?? 0) + 1);
    } else {
      this.others += 1;
    }
  }

  /** Logs what the open interval counted, and stops timing (on shutdown). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.logSummary();
  }

  private openInterval(): void {
    this.logged = 0;
    this.timer = setTimeout(() => this.intervalEnded(), this.intervalMs);
    this.timer.unref();
  }

  private intervalEnded(): void {
    this.timer = undefined;
    if (this.total > 0) {
      this.logSummary();
      this.openInterval();
    }
  }

  private logSummary(): void {
    if (this.total === 0) {
      return;
    }
    const reasons = [...this.reasons].sort((a, b) => b[1] - a[1]).map(([reason, count]) => `${count} ${reason}`);
    const top = [...this.addresses]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_ADDRESSES)
      .map(([address, count]) => `${address} (${count})`);
    const addresses = `${this.addresses.size}${this.others > 0 ? '+' : ''} address${this.addresses.size === 1 && this.others === 0 ? '' : 'es'}`;
    this.log(
      `${this.total} more in the last ${formatSeconds(this.intervalMs)}: ${reasons.join(', ')}; from ${addresses}, top: ${top.join(', ')}`,
    );
    this.reasons.clear();
    this.addresses.clear();
    this.others = 0;
    this.total = 0;
  }
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
