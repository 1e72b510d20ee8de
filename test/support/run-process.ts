import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

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
  timeoutMs: number;
}

/** Path of a compiled entry point; `npm test` builds before Jest runs. */
export function compiled(relativePath: string): string {
  const path = join(REPO_ROOT, relativePath);
  if (!existsSync(path)) {
    throw new Error(`${relativePath} is missing: run "npm run build" first (npm test does)`);
  }
  return path;
}

/** Runs `node <args>` to completion, killing it (by pid) if it outlives `timeoutMs`. */
export function runNode(args: string[], options: RunOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Fails with the process's whole output when it exited otherwise than expected. */
export function expectExitCode(result: ProcessResult, expected: number): void {
  if (result.code !== expected) {
    throw new Error(
      `expected exit code ${expected}, got ${result.code} (signal ${result.signal}, timed out ${result.timedOut})\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
  }
}
