import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import type { Circus } from '@jest/types';
import { TestEnvironment } from 'jest-environment-node';
import { format } from 'node:util';
import { CAPTURED_LOGS, type CapturedLine, type CapturedLogs, type CapturedSource } from './captured-logs';

/** The most lines printed for one failure; the earliest are left out beyond it. */
const MAX_PRINTED_LINES = 200;
/** The most lines kept for a test file (`capturedLogs(level, { scope: 'file' })`); the earliest go first. */
const MAX_FILE_LINES = 10_000;

/** Nest's readable line: `[Nest] 123  - 12/07/2026, 4:33:57 PM    WARN [EchoClient] message`. */
const NEST_LINE = /^\[[^\]]+\] \d+ +- .+? +(LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL) (?:\[([^\]]*)\] )?([\s\S]*)$/;
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The console methods whose output is captured. `console.info` is left alone: tests print their measurements with it. */
const CAPTURED_CONSOLE = { log: 'log', warn: 'warn', error: 'error', debug: 'debug', trace: 'verbose' } as const;

/**
 * The test environment of every project: Node's, with what the code under test writes to
 * `process.stdout` and `process.stderr` (Nest's console logger writes there) and prints with
 * `console.log/warn/error/debug/trace` captured instead of printed. A test that fails gets its
 * captured lines (and those logged outside any test so far, e.g. in `beforeAll`) printed as one
 * console block under its suite, and nothing else does. Tests read them with the helpers of
 * `captured-logs.ts` (`capturedLogs()`, `expectLogged()`); `TEST_LOGS=print` prints them live instead.
 *
 * Only the sandbox's `process` gets the capturing streams; the real ones, which Jest's reporters
 * and child processes' inherited stdio use, are untouched. Output of child processes started with
 * piped stdio (test/support/run-process.ts) never reached the run's output and still does not.
 */
export default class QuietEnvironment extends TestEnvironment {
  private readonly lines: CapturedLine[] = [];
  /** Lines of the test under way, from its `beforeEach` hooks on. */
  private currentTest: CapturedLine[] | undefined;
  private currentTestName: string | undefined;
  /** Lines logged outside any test (module load, `beforeAll`, `afterAll`) and not printed yet. */
  private outsideTests: CapturedLine[] = [];
  private failed = false;
  private readonly printLive = process.env.TEST_LOGS === 'print';
  private readonly report: (text: string) => void;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    // Bound now: setup() replaces the console's `log` with one that captures.
    this.report = context.console.log.bind(context.console);
  }

  override async setup(): Promise<void> {
    await super.setup();
    const sandboxProcess = this.global.process;
    for (const stream of ['stdout', 'stderr'] as const) {
      Object.defineProperty(sandboxProcess, stream, {
        configurable: true,
        enumerable: true,
        writable: true,
        value: this.capturingStream(process[stream], stream),
      });
    }
    const console = this.global.console as unknown as Record<string, unknown>;
    for (const [method, level] of Object.entries(CAPTURED_CONSOLE)) {
      const original = console[method] as (...args: unknown[]) => void;
      console[method] = (...args: unknown[]) => {
        this.record('console', format(...args), level);
        if (this.printLive) {
          original.apply(console, args);
        }
      };
    }
    const api: CapturedLogs = {
      lines: (scope) => [...(scope === 'file' ? this.lines : (this.currentTest ?? []))],
      clear: () => {
        this.currentTest?.splice(0);
      },
    };
    Object.defineProperty(this.global, CAPTURED_LOGS, { value: api, configurable: true });
  }

  handleTestEvent: Circus.EventHandler = (event, state) => {
    switch (event.name) {
      case 'test_start':
        this.currentTest = [];
        this.currentTestName = fullName(event.test);
        break;
      case 'test_done':
        if (event.test.errors.length > 0) {
          this.failed = true;
          this.print(`the failing test "${fullName(event.test)}"`, [...this.takeOutsideTests(), ...(this.currentTest ?? [])]);
        }
        this.currentTest = undefined;
        this.currentTestName = undefined;
        break;
      case 'hook_failure':
        this.failed = true;
        break;
      case 'run_finish':
        if (this.failed || state.unhandledErrors.length > 0) {
          this.print('the failing suite, outside its tests', this.takeOutsideTests());
        }
        break;
      default:
        break;
    }
  };

  /** A stand-in for `real` whose writes are captured; everything else (isTTY, columns, on) is the real stream's. */
  private capturingStream(real: NodeJS.WriteStream, stream: 'stdout' | 'stderr'): NodeJS.WriteStream {
    const write = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
      const text =
        typeof chunk === 'string'
          ? chunk
          : Buffer.from(chunk as Uint8Array).toString(typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
      this.record(stream, text);
      if (this.printLive) {
        return real.write(chunk as string, encoding as BufferEncoding, callback as () => void);
      }
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') {
        process.nextTick(done);
      }
      return true;
    };
    return Object.create(real, { write: { value: write, configurable: true, enumerable: true, writable: true } }) as NodeJS.WriteStream;
  }

  /** Records a console call (its level given) or a write to a stream (its level read from Nest's line). */
  private record(source: CapturedSource, raw: string, consoleLevel?: string): void {
    const text = raw.replace(ANSI, '').replace(/\n$/, '');
    const parsed = consoleLevel === undefined ? parseWrite(text) : { level: consoleLevel, message: text };
    const line: CapturedLine = { ...parsed, text, source, test: this.currentTestName };
    this.lines.push(line);
    if (this.lines.length > MAX_FILE_LINES) {
      this.lines.shift();
    }
    (this.currentTest ?? this.outsideTests).push(line);
  }

  private takeOutsideTests(): CapturedLine[] {
    return this.outsideTests.splice(0);
  }

  private print(what: string, lines: CapturedLine[]): void {
    if (lines.length === 0 || this.printLive) {
      return;
    }
    const shown = lines.slice(-MAX_PRINTED_LINES);
    const left = lines.length - shown.length;
    this.report(
      [
        `captured output of ${what} (${lines.length} line${lines.length === 1 ? '' : 's'}${left > 0 ? `, the first ${left} left out` : ''}):`,
        ...shown.map((line) =>
          line.source === 'console' ? `console.${line.level === 'verbose' ? 'trace' : line.level}: ${line.text}` : line.text,
        ),
      ].join('\n'),
    );
  }
}

/** Level, context and message of one write: Nest's readable or JSON line, or plain output. */
function parseWrite(text: string): { level: string; context?: string; message: string } {
  const nest = NEST_LINE.exec(text);
  if (nest) {
    return { level: nest[1].toLowerCase(), context: nest[2], message: nest[3] };
  }
  if (text.startsWith('{')) {
    try {
      const record = JSON.parse(text) as { level?: unknown; context?: unknown; message?: unknown };
      if (typeof record.level === 'string') {
        return {
          level: record.level,
          context: typeof record.context === 'string' ? record.context : undefined,
          message: typeof record.message === 'string' ? record.message : JSON.stringify(record.message),
        };
      }
    } catch {
      // not a JSON record
    }
  }
  return { level: 'output', message: text };
}

function fullName(test: Circus.TestEntry): string {
  const names = [test.name];
  for (let block: Circus.DescribeBlock | undefined = test.parent; block && block.name !== 'ROOT_DESCRIBE_BLOCK'; block = block.parent) {
    names.unshift(block.name);
  }
  return names.join(' › ');
}
