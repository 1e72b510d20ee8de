/** Request/response message patterns: the client waits for exactly one reply. */
export const Patterns = {
  HELLO: 'hello',
  ECHO: 'echo',
  COMMAND: 'command',
} as const;

/** Fire-and-forget event patterns: the server never replies. */
export const Events = {
  NOTE: 'note',
} as const;

export type RequestPattern = (typeof Patterns)[keyof typeof Patterns];
export type EventPattern = (typeof Events)[keyof typeof Events];

export const REQUEST_PATTERNS: readonly RequestPattern[] = Object.values(Patterns);
export const EVENT_PATTERNS: readonly EventPattern[] = Object.values(Events);
