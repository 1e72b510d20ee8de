import type { ErrorCode } from './error-envelope';
import type { EventPattern, RequestPattern } from './patterns';

/** The JSON document that the `stats` command outputs. */
export interface ServerStats {
  uptimeSeconds: number;
  /** `rejected`: closed on arrival because MAX_CONNECTIONS were open. */
  connections: { open: number; total: number; rejected: number };
  /** Requests received per pattern, counted before validation. */
  messages: Record<RequestPattern, number>;
  /** Events received per pattern, counted before validation. */
  events: Record<EventPattern, number>;
  /** Successful runs per command name. */
  commands: Record<string, number>;
  errors: { total: number; byCode: Partial<Record<ErrorCode, number>> };
}
