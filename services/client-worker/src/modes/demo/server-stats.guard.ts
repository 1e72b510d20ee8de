import { EVENT_PATTERNS, REQUEST_PATTERNS, type ServerStats } from '@echo-pair/common';

/** Whether a parsed `stats` output has the shape of `ServerStats`. */
export function isServerStats(value: unknown): value is ServerStats {
  if (!isRecord(value) || typeof value.uptimeSeconds !== 'number') {
    return false;
  }
  const { connections, messages, events, commands, errors } = value;
  return (
    isRecord(connections) &&
    typeof connections.open === 'number' &&
    typeof connections.total === 'number' &&
    isRecord(messages) &&
    REQUEST_PATTERNS.every((pattern) => typeof messages[pattern] === 'number') &&
    isRecord(events) &&
    EVENT_PATTERNS.every((pattern) => typeof events[pattern] === 'number') &&
    isRecord(commands) &&
    Object.values(commands).every((count) => typeof count === 'number') &&
    isRecord(errors) &&
    typeof errors.total === 'number' &&
    isRecord(errors.byCode)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
