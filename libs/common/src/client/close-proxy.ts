import type { ClientProxy } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { CLOSE_GRACE_MS, destroyUnlessClosed } from '../transport/destroy-unless-closed';
import { isDatagramProxy } from './datagram-proxy';

/**
 * Closes a proxy. A peer that never closes its side would keep the half-closed socket, and so
 * the process, alive: it is destroyed after a grace period. A datagram proxy's `close()` ends its socket at once.
 */
export async function closeProxy(proxy: ClientProxy): Promise<void> {
  const socket = isDatagramProxy(proxy) ? undefined : currentSocket(proxy);
  await proxy.close();
  if (socket && !socket.destroyed) {
    void destroyUnlessClosed(socket, CLOSE_GRACE_MS);
  }
}

function currentSocket(proxy: ClientProxy): Socket | undefined {
  try {
    return proxy.unwrap<Socket>();
  } catch {
    return undefined; // never connected
  }
}
