import { describeError, EchoClient, REQUEST_PATTERNS } from '@echo-pair/common';

export interface HealthProbeTarget {
  host: string;
  port: number;
  /** Bound on the whole probe: connect, `hello`, reply. */
  timeoutMs: number;
}

export type HealthProbeResult = { healthy: true; detail: string } | { healthy: false; detail: string };

/** Where a local probe should connect for a server listening on `listenHost`. */
export function probeHostFor(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') {
    return '127.0.0.1';
  }
  if (listenHost === '::' || listenHost === '[::]') {
    return '::1';
  }
  return listenHost;
}

/**
 * Speaks the protocol, not just TCP: sends `hello` through the real framing and
 * checks that the reply is the server's welcome, serving every request pattern.
 */
export async function probeHealth({ host, port, timeoutMs }: HealthProbeTarget): Promise<HealthProbeResult> {
  const client = EchoClient.create({ host, port, timeoutMs });
  try {
    const hello = await client.hello({ client: 'healthcheck' });
    const missing = REQUEST_PATTERNS.filter((pattern) => !hello.patterns?.requests?.includes(pattern));
    if (missing.length > 0) {
      return { healthy: false, detail: `${hello.server} does not serve ${missing.join(', ')}` };
    }
    return { healthy: true, detail: `${hello.server} ${hello.version} (${hello.instance}) answered hello` };
  } catch (error: unknown) {
    return { healthy: false, detail: describeError(error) };
  } finally {
    await client.close();
  }
}
