export const WORKER_MODES = ['demo', 'repl', 'load'] as const;

export type WorkerMode = (typeof WORKER_MODES)[number];

export function isWorkerMode(value: string): value is WorkerMode {
  return (WORKER_MODES as readonly string[]).includes(value);
}
