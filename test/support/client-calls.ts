import { RpcClientError, type EchoClient, type ErrorCode, type ServerStats } from '@echo-pair/common';

/** The `RpcClientError` that `call` rejects with; fails the test if it resolves or rejects with anything else. */
export async function rejection(call: Promise<unknown>): Promise<RpcClientError> {
  const error = await call.then(
    (value: unknown) => {
      throw new Error(`expected the call to fail, it replied ${JSON.stringify(value)}`);
    },
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(RpcClientError);
  return error as RpcClientError;
}

/** The server's counters, through the `stats` command. */
export async function readStats(client: EchoClient): Promise<ServerStats> {
  return JSON.parse((await client.command({ name: 'stats' })).output) as ServerStats;
}

/**
 * Reads the stats until `holds` is true of them, or gives up after `attempts`
 * reads or `timeoutMs`, returning the last. For what has no reply to wait for:
 * an event is counted when the server has handled it, some time after `emit` resolved.
 */
export async function statsWhen(
  client: EchoClient,
  holds: (stats: ServerStats) => boolean,
  { attempts = 100, timeoutMs = 10_000 } = {},
): Promise<ServerStats> {
  const deadline = Date.now() + timeoutMs;
  let stats = await readStats(client);
  for (let read = 1; read < attempts && Date.now() < deadline && !holds(stats); read += 1) {
    stats = await readStats(client);
  }
  return stats;
}

/** How many more errors of each code `after` counts than `before`, leaving out the codes that did not change. */
export function errorsAdded(before: ServerStats, after: ServerStats): Partial<Record<ErrorCode, number>> {
  const codes = new Set([...Object.keys(before.errors.byCode), ...Object.keys(after.errors.byCode)] as ErrorCode[]);
  return Object.fromEntries(
    [...codes]
      .map((code) => [code, (after.errors.byCode[code] ?? 0) - (before.errors.byCode[code] ?? 0)] as const)
      .filter(([, added]) => added !== 0),
  );
}
