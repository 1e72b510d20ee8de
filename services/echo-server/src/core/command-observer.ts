/** Told of every command that ran to completion; the server's stats implement it. */
export interface CommandObserver {
  recordCommand(name: string): void;
}

/** Optional: without an observer, commands run uncounted. */
export const COMMAND_OBSERVER = Symbol('COMMAND_OBSERVER');
