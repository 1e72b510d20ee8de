import { Transports, type TransportName, formatPeer } from '@echo-pair/common';
import { TcpContext } from '@nestjs/microservices';
import { GatewayContext } from './gateway-context';

/** The pattern and transport of a handled call, from its RPC context; cheap enough for every call. */
export function patternAndTransportOf(context: unknown): { pattern: string; transport: TransportName } | undefined {
  if (context instanceof GatewayContext) {
    return { pattern: context.getPattern(), transport: context.getTransport() };
  }
  if (context instanceof TcpContext) {
    return { pattern: context.getPattern(), transport: Transports.TCP };
  }
  return undefined;
}

/** `"echo" from 127.0.0.1:50312 over text`, for logs. */
export function describeServedCall(context: unknown): string {
  if (context instanceof GatewayContext) {
    return `${JSON.stringify(context.getPattern())} from ${context.getPeer()} over ${context.getTransport()}`;
  }
  if (context instanceof TcpContext) {
    const socket = context.getSocketRef()?.netSocket;
    return `${JSON.stringify(context.getPattern())} from ${socket ? formatPeer(socket) : 'unknown peer'}`;
  }
  return 'unknown call';
}
