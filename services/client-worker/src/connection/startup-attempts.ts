import { describeError } from '@echo-pair/common';
import type { WorkerOutput } from '../output/worker-output.service';
import { ServerUnavailableError } from './server-unavailable.error';

/** The start-up's budget of failed attempts and time, shared by the keeper's failed connects and failed `hello`s. */
export class StartupAttempts {
  failures = 0;
  private readonly deadline: number;
  private giveUp: (error: ServerUnavailableError) => void = () => undefined;
  private readonly gaveUp = new Promise<never>((_, reject) => (this.giveUp = reject));

  constructor(
    private readonly attempts: number,
    private readonly budgetMs: number,
    private readonly output: WorkerOutput,
    /** The server's address, and the settings that name it (for the hint when giving up). */
    private readonly where: { server: string; settings: string },
  ) {
    this.deadline = Date.now() + budgetMs;
    this.gaveUp.catch(() => undefined); // observed through `race`
  }

  get server(): string {
    return this.where.server;
  }

  get remainingMs(): number {
    return Math.max(1, this.deadline - Date.now());
  }

  /** `call`, unless the attempts run out first; a call lost that way is left to end by itself (the client's close ends it). */
  race<T>(call: Promise<T>): Promise<T> {
    call.catch(() => undefined);
    return Promise.race([call, this.gaveUp]);
  }

  /** A failed attempt, the next one `retryInMs` away: printed, and the end of the start-up if it was the last (then true). */
  failed(error: unknown, retryInMs: number): boolean {
    this.failures += 1;
    const outOfTime = Date.now() + retryInMs >= this.deadline;
    const last = this.failures >= this.attempts || outOfTime;
    this.output.print(
      `server ${this.server} not ready (${describeError(error)}), attempt ${this.failures}/${this.attempts}, ${last ? 'giving up' : `retrying in ${retryInMs} ms`}`,
    );
    if (last) {
      const how =
        outOfTime && this.failures < this.attempts
          ? `within ${this.budgetMs} ms`
          : `after ${this.failures} attempt${this.failures === 1 ? '' : 's'}`;
      this.giveUp(
        new ServerUnavailableError(
          `no echo server answered at ${this.server} ${how} (last error ${describeError(error)}); is it running? check ${this.where.settings}`,
        ),
      );
    }
    return last;
  }

  /** A `hello` that failed on the transport: a failed attempt; resolves when the next may be sent, rejects if none may. */
  async helloFailed(error: unknown, retryInMs: number): Promise<void> {
    if (this.failed(error, retryInMs)) {
      await this.gaveUp;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.race(new Promise<void>((resolve) => (timer = setTimeout(resolve, retryInMs))));
    } finally {
      clearTimeout(timer); // when the attempts ran out meanwhile (a failed connect of the keeper)
    }
  }
}
