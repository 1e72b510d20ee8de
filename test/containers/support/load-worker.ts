import type { Readable } from 'node:stream';
import type { StartedNetwork, StartedTestContainer } from 'testcontainers';
import { delay } from './bounded';
import type { Cleanup } from './cleanup';
import { clientWorkerContainer, type LoopbackContainer } from './echo-containers';

/** Counts of a load run, as its progress lines and its summary print them. */
export interface LoadCounts {
  sent: number;
  ok: number;
  errors: number;
}

export interface LoadSummary extends LoadCounts {
  /** The "errors by code" line, e.g. `{ CONNECTION_LOST: 2, TIMEOUT: 4 }`; empty without errors. */
  errorsByCode: Record<string, number>;
}

/**
 * The client-worker image in `load` mode on `network`, where it finds the server by the
 * image's default ECHO_SERVER_HOST. The run is bounded by `environment`'s LOAD_REQUESTS
 * and LOAD_MAX_SECONDS; a SIGTERM ends it sooner, with its summary.
 */
export function loadWorkerContainer(network: StartedNetwork, environment: Record<string, string>): LoopbackContainer {
  return clientWorkerContainer().withNetwork(network).withCommand(['load']).withEnvironment(environment);
}

const PROGRESS_LINE = /^progress: (\d+)\/\d+ sent, (\d+) ok, (\d+) errors, \S+ req\/s(?:, replicas .+)?$/;
const SUMMARY_LINE = /^summary: sent (\d+), ok (\d+), errors (\d+), duration /m;
const ERRORS_BY_CODE_LINE = /^errors by code: (.+)$/m;
const POLL_MS = 100;

/**
 * The progress lines of a running load worker, read as they come from its log stream
 * (once a second while it sends), so that a test can wait for a state of the run.
 */
export class LoadProgress {
  private readonly lines: LoadCounts[] = [];
  private partial = '';

  private constructor(stream: Readable) {
    stream.on('data', (chunk: string) => this.read(chunk));
  }

  /** Follows `worker`'s output from its start; the stream is closed by `cleanup`. */
  static async follow(cleanup: Cleanup, worker: StartedTestContainer): Promise<LoadProgress> {
    const stream = await worker.logs();
    cleanup.add(`log stream of ${worker.getId().slice(0, 12)}`, () => Promise.resolve(stream.destroy()));
    return new LoadProgress(stream);
  }

  /** How many progress lines have been read so far: an index for `waitFor` and `waitForCleanStretch`. */
  get count(): number {
    return this.lines.length;
  }

  /** The first progress line from index `from` on that satisfies `accept`, waiting at most `timeoutMs`. */
  async waitFor(what: string, accept: (counts: LoadCounts) => boolean, timeoutMs: number, from = 0): Promise<LoadCounts> {
    const deadline = Date.now() + timeoutMs;
    for (let index = from; ;) {
      for (; index < this.lines.length; index += 1) {
        if (accept(this.lines[index])) {
          return this.lines[index];
        }
      }
      if (Date.now() >= deadline) {
        throw new Error(`no progress line showed ${what} within ${timeoutMs} ms; progress so far: ${this.describe(from)}`);
      }
      await delay(POLL_MS);
    }
  }

  /**
   * Two consecutive progress lines from index `from` on between which at least `minOk` calls
   * succeeded and none failed: a second or more of clean traffic, i.e. the run has recovered.
   */
  async waitForCleanStretch(minOk: number, timeoutMs: number, from: number): Promise<{ start: LoadCounts; end: LoadCounts }> {
    let previous: LoadCounts | undefined;
    const end = await this.waitFor(
      `${minOk} successes in a row`,
      (counts) => {
        const clean = previous !== undefined && counts.errors === previous.errors && counts.ok - previous.ok >= minOk;
        if (!clean) {
          previous = counts;
        }
        return clean;
      },
      timeoutMs,
      from,
    );
    return { start: previous!, end };
  }

  private read(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const match = PROGRESS_LINE.exec(line.trimEnd());
      if (match) {
        this.lines.push({ sent: Number(match[1]), ok: Number(match[2]), errors: Number(match[3]) });
      }
    }
  }

  private describe(from: number): string {
    const shown = this.lines.slice(from).map(({ sent, ok, errors }) => `${sent}/${ok}/${errors}`);
    return shown.length === 0 ? 'none' : `sent/ok/errors ${shown.join(' ')}`;
  }
}

/** The summary of a finished load run, from its transcript (stdout); throws, quoting it, when there is none. */
export function parseLoadSummary(stdout: string): LoadSummary {
  const summary = SUMMARY_LINE.exec(stdout);
  if (!summary) {
    throw new Error(`the load worker printed no summary; its transcript:\n${stdout}`);
  }
  const errorsByCode: Record<string, number> = {};
  for (const entry of ERRORS_BY_CODE_LINE.exec(stdout)?.[1].split(', ') ?? []) {
    const [code, count] = entry.split(' ');
    errorsByCode[code] = Number(count);
  }
  return { sent: Number(summary[1]), ok: Number(summary[2]), errors: Number(summary[3]), errorsByCode };
}

/** `CONNECTION_LOST 2, TIMEOUT 4`, or `none`. */
export function formatErrorsByCode(errorsByCode: Record<string, number>): string {
  const entries = Object.entries(errorsByCode);
  return entries.length === 0 ? 'none' : entries.map(([code, count]) => `${code} ${count}`).join(', ');
}
