import { REQUEST_PATTERNS, type RequestPattern } from '@echo-pair/common';

/** Zero requests of every request pattern of the contract: what specs spread their counts over. */
export const NO_MESSAGES: Readonly<Record<RequestPattern, number>> = Object.fromEntries(
  REQUEST_PATTERNS.map((pattern) => [pattern, 0]),
) as Record<RequestPattern, number>;
