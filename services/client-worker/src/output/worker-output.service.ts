/**
 * The worker's transcript: what each mode reports to its user. Operational logs
 * go through Nest's logger instead. Provided as a value, since `runWorker`
 * needs it before the application context exists.
 */
export class WorkerOutput {
  constructor(
    /** The transcript's stream, also where an interactive REPL draws its prompt. */
    readonly stream: NodeJS.WritableStream,
    private readonly errorStream: NodeJS.WritableStream,
  ) {}

  /** Writes lines of the transcript. */
  print(...lines: string[]): void {
    for (const line of lines) {
      this.stream.write(`${line}\n`);
    }
  }

  /** Writes lines about why the worker cannot go on. */
  fail(...lines: string[]): void {
    for (const line of lines) {
      this.errorStream.write(`${line}\n`);
    }
  }
}
