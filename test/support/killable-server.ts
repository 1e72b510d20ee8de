import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { compiled, REPO_ROOT } from './run-process';

/** The compiled echo server in a child process on 127.0.0.1, which a test can SIGKILL. */
export interface KillableServer {
  readonly child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts it on `port` and resolves once it logs that it listens; fails after `timeoutMs`. */
export async function startKillableServer(port: number, timeoutMs = 20_000): Promise<KillableServer> {
  const child = spawn(process.execPath, [compiled('services/echo-server/dist/main.js')], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NO_COLOR: '1',
      ECHO_HOST: '127.0.0.1',
      ECHO_PORT: String(port),
      TEXT_PORT: '0',
      UDP_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'log',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit');
  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
  };
  let output = '';
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not listen within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const look = (chunk: Buffer) => {
      output += chunk.toString();
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${output}`));
    });
  });
  try {
    await listening;
  } catch (error) {
    await kill();
    throw error;
  }
  return { child, kill };
}
