import type { Type } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy } from '@nestjs/microservices';
import { framedJsonSocket } from '../transport/framed-json-socket.factory';
import { EchoClientTcp, type EchoClientTcpOptions } from './echo-client-tcp';
import { DEFAULT_KEEP_ALIVE_MS, type EchoClientOptions } from './echo-client-options';
import { propagatingTraceContext } from './propagating-trace-context';

/** The proxy of a TCP client: Nest's TCP transport (with its direct path) on the project's framed socket. */
export function tcpProxy(options: EchoClientOptions): ClientProxy {
  const { maxBufferSize, incompleteMessageTimeout, maxSendBufferSize, ...transport } = options.transport ?? {};
  const proxy = ClientProxyFactory.create({
    // Nest types `customClass` as a ClientProxy of string statuses; ClientTCP's are narrower.
    customClass: EchoClientTcp as Type<ClientProxy>,
    options: {
      socketClass: framedJsonSocket({
        maxFrameLength: maxBufferSize,
        incompleteFrameTimeoutMs: incompleteMessageTimeout,
        maxSendBufferBytes: maxSendBufferSize,
      }),
      ...transport,
      host: options.host,
      port: options.port,
      keepAliveMs: options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    } satisfies EchoClientTcpOptions,
  });
  return propagatingTraceContext(proxy);
}
