import type { EchoClient } from '@echo-pair/common';

/** The stream the REPL reads lines from. */
export const WORKER_INPUT = Symbol('WORKER_INPUT');

/** Creates one more client of the configured server, for modes that need several connections. */
export const ECHO_CLIENT_FACTORY = Symbol('ECHO_CLIENT_FACTORY');

export type EchoClientFactory = () => EchoClient;
