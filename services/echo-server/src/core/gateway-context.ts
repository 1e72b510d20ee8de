import { BaseRpcContext, type PacketMetadata } from '@nestjs/microservices';
import type { TransportName } from '@echo-pair/common';

type GatewayContextArgs = [pattern: string, transport: TransportName, peer: string, metadata?: PacketMetadata];

/** The RPC context of a call that arrived over the text gateway or UDP: what `TcpContext` is to Nest's TCP transport. */
export class GatewayContext extends BaseRpcContext<GatewayContextArgs> {
  getPattern(): string {
    return this.args[0];
  }

  getTransport(): TransportName {
    return this.args[1];
  }

  /** The peer's address as `host:port`, quoted for logs. */
  getPeer(): string {
    return this.args[2];
  }

  /** The metadata the client attached to the packet (a UDP JSON packet's `metadata`), if any; as `TcpContext.getMetadata()`. */
  getMetadata(): PacketMetadata | undefined {
    return this.args[3];
  }
}
