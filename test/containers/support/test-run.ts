import { randomUUID } from 'node:crypto';
import { EchoServerPorts } from '@echo-pair/testcontainers';

/** The images that the global setup builds from the Dockerfile, once per run. */
export const IMAGES = {
  echoServer: { target: 'echo-server', tag: 'echo-pair/echo-server:test' },
  clientWorker: { target: 'client-worker', tag: 'echo-pair/client-worker:test' },
} as const;

/** The port the server listens on inside its container (the Dockerfile's ECHO_PORT). */
export const SERVER_PORT = EchoServerPorts.tcp;

/** Set by the global setup, read by the suites and the teardown (Jest workers inherit its environment). */
const RUN_ID_VARIABLE = 'ECHO_PAIR_CONTAINER_RUN';
const SETUP_FAILURE_VARIABLE = 'ECHO_PAIR_CONTAINER_SETUP_FAILURE';

/** Label on every container the suites start, so that the teardown can find any one left behind. */
export const RUN_LABEL = 'echo-pair.test-run';

export function startRun(): void {
  process.env[RUN_ID_VARIABLE] = randomUUID().slice(0, 8);
}

export function runId(): string {
  const id = process.env[RUN_ID_VARIABLE];
  if (!id) {
    throw new Error(
      `${RUN_ID_VARIABLE} is unset: run the container suites through Jest's "containers" project, whose global setup sets it`,
    );
  }
  return id;
}

/** Prefix of the names of this run's networks and compose projects. */
export function runPrefix(): string {
  return `echo-pair-test-${runId()}`;
}

/** A name unique to this run and this call, for a network or a compose project. */
export function uniqueName(role: string): string {
  return `${runPrefix()}-${role}-${randomUUID().slice(0, 8)}`;
}

/** Why the global setup could not prepare the run (no engine, a failed build), in one line. */
export function recordSetupFailure(line: string): void {
  process.env[SETUP_FAILURE_VARIABLE] = line;
}

export function setupFailure(): string | undefined {
  return process.env[SETUP_FAILURE_VARIABLE] || undefined;
}
