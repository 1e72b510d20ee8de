import type { WireLimits } from './wire-limits';

export interface HelloRequest {
  /** Optional name of the client, shown in the server's log. */
  client?: string;
}

export interface CommandDescriptor {
  name: string;
  usage: string;
  description: string;
}

export type ServerLimits = { -readonly [K in keyof typeof WireLimits]: number } & {
  /** Largest frame the server accepts, in UTF-16 code units of its JSON. */
  maxMessageLength: number;
  /** A frame left incomplete for this long closes the connection. */
  incompleteMessageTimeoutMs: number;
  /** Upper bound of the `sleep` command. */
  sleepMaxMs: number;
};
