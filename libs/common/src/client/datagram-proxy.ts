import type { ClientProxy } from '@nestjs/microservices';

/**
 * A proxy that sends each packet as one datagram (the UDP transport's): it has a size limit, no
 * connection that calls could find dead, and no half-closed socket to destroy on close.
 */
export interface DatagramProxy {
  /** The largest request datagram it sends; a larger request fails with `NOT_SENT`. */
  readonly maxDatagramBytes: number;
}

export function isDatagramProxy(proxy: ClientProxy): proxy is ClientProxy & DatagramProxy {
  return typeof (proxy as Partial<DatagramProxy>).maxDatagramBytes === 'number';
}
