import { spawn } from 'node:child_process';
import { REPO_ROOT } from '../../support/run-process';

export interface DockerCliOptions {
  /** Variables added to this process's environment (a compose or stack file reads them). */
  env?: Record<string, string>;
  /** The command is killed (SIGKILL) when it outlives this. */
  timeoutMs: number;
}

/**
 * Runs the `docker` CLI (`docker compose …`, `docker stack …`, `docker service …`) in the
 * repository's root, for what testcontainers' clients do not offer (compose's `--scale` and
 * `port`, swarm stacks). Resolves with its stdout; rejects, quoting its output, unless it exits 0
 * within `timeoutMs`.
 */
export function dockerCli(args: readonly string[], { env = {}, timeoutMs }: DockerCliOptions): Promise<string> {
  const command = `docker ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('docker', args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 && !timedOut) {
        resolve(stdout);
        return;
      }
      const how = timedOut ? `took longer than ${timeoutMs} ms` : `exited with ${code ?? signal}`;
      reject(new Error(`${command} ${how}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    });
  });
}
