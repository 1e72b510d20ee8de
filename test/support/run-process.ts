import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

/**
 * The longest a test may let a process run. The e2e project's test timeout
 * (test/support/e2e-setup.ts) is above it, so that a process is stopped by its
 * own bound, with its output in the failure, rather than by Jest's timeout.
 */
export const MAX_PROCESS_MS = 90_000;

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  /** Killed, with everything it started, when it outlives this; at most MAX_PROCESS_MS. */
  timeoutMs: number;
}

export interface RunningProcess {
  /** Settles once the process has exited and its output is closed. */
  readonly result: Promise<ProcessResult>;
  /**
   * Resolves with the first line of stdout or stderr matching `pattern`, printed
   * already or later; rejects if the process exits first or nothing matches within `timeoutMs`.
   */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/** Processes started and not yet closed, by pid; `killStrayProcesses()` kills them. */
const running = new Map<number, ChildProcessWithoutNullStreams>();

/** Path of a compiled entry point; `npm test` builds before Jest runs. */
export function compiled(relativePath: string): string {
  const path = join(REPO_ROOT, relativePath);
  if (!existsSync(path)) {
    throw new Error(`${relativePath} is missing: run "npm run build" first (npm test does)`);
  }
  return path;
}

/** Runs `node <args>` to completion, killing it if it outlives `timeoutMs`. */
export function runNode(args: string[], options: RunOptions): Promise<ProcessResult> {
  return startNode(args, options).result;
}

/**
 * Starts `node <args>` as the leader of a new process group, so that killing
 * the group also kills what it started (`npm run demo` starts a server and a worker).
 */
export function startNode(args: string[], options: RunOptions): RunningProcess {
  if (options.timeoutMs > MAX_PROCESS_MS) {
    throw new Error(`timeoutMs ${options.timeoutMs} is above MAX_PROCESS_MS (${MAX_PROCESS_MS}), so above the e2e test timeout`);
  }
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const { pid } = child;
  if (pid !== undefined) {
    running.set(pid, child);
  }

  let stdout = '';
  let stderr = '';
  let timedOut = false;
  const outputListeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    outputListeners.forEach((listener) => listener());
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    outputListeners.forEach((listener) => listener());
  });
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(pid);
  }, options.timeoutMs);

  const result = new Promise<ProcessResult>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      forget(pid);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      forget(pid);
      // The leader has exited: whatever it started and left running goes with its group.
      killGroup(pid);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
  result.catch(() => undefined); // whoever awaits `result` sees the failure
  child.stdin.on('error', () => undefined); // the process may exit before reading its input
  child.stdin.end(options.input ?? '');

  function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(deadline);
        outputListeners.delete(look);
      };
      const look = () => {
        const line = `${stdout}\n${stderr}`.split('\n').find((candidate) => pattern.test(candidate));
        if (line !== undefined) {
          done();
          resolve(line);
        }
      };
      const deadline = setTimeout(() => {
        done();
        reject(new Error(`nothing matched ${pattern} within ${timeoutMs} ms\n${transcript(stdout, stderr)}`));
      }, timeoutMs);
      outputListeners.add(look);
      result.then(
        ({ code, signal }) => {
          done();
          reject(new Error(`exited (code ${code}, signal ${signal}) before printing ${pattern}\n${transcript(stdout, stderr)}`));
        },
        (error: unknown) => {
          done();
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
      look();
    });
  }

  return { result, waitForOutput };
}

/**
 * Kills every process group that a test started and did not see closed (the
 * test failed, or timed out, before awaiting it). e2e-setup.ts runs it after each test.
 */
export async function killStrayProcesses(): Promise<void> {
  const stray = [...running.values()];
  const closed = stray.map((child) => new Promise<void>((resolve) => child.once('close', () => resolve())));
  stray.forEach((child) => killGroup(child.pid));
  let bound: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(closed), new Promise((resolve) => (bound = setTimeout(resolve, 10_000)))]);
  clearTimeout(bound);
}

function forget(pid: number | undefined): void {
  if (pid !== undefined) {
    running.delete(pid);
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) {
    return;
  }
  try {
    process.kill(-pid, 'SIGKILL'); // the process group whose leader is `pid`
  } catch {
    // the group is gone already
  }
}

function transcript(stdout: string, stderr: string): string {
  return `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
}

/** Fails with the process's whole output when it exited otherwise than expected. */
export function expectExitCode(result: ProcessResult, expected: number): void {
  if (result.code !== expected) {
    throw new Error(
      `expected exit code ${expected}, got ${result.code} (signal ${result.signal}, timed out ${result.timedOut})\n${transcript(result.stdout, result.stderr)}`,
    );
  }
}
