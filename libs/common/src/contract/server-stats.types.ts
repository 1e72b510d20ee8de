import type { ErrorCode } from './error-envelope';
import type { EventPattern, RequestPattern } from './patterns';
import type { SocketRejectionReason } from './socket-rejection';
import type { TransportName, UdpDropReason } from './transports';

/** The JSON document that the `stats` command outputs. */
export interface ServerStats {
  uptimeSeconds: number;
  /**
   * `rejected`: refused on arrival because their address held MAX_CONNECTIONS_PER_ADDRESS already;
   * `evicted`: closed, the longest idle, to make room for a newcomer at a door's connection cap.
   */
  connections: { open: number; total: number; rejected: number; evicted: number };
  /** Requests received per pattern, counted before validation. */
  messages: Record<RequestPattern, number>;
  /** Events received per pattern, counted before validation. */
  events: Record<EventPattern, number>;
  /** Successful runs per command name. */
  commands: Record<string, number>;
  errors: { total: number; byCode: Partial<Record<ErrorCode, number>> };
  /** Connections closed by the server because the peer broke the framing or a per-connection limit, per reason. */
  rejections: { total: number; byReason: Partial<Record<SocketRejectionReason, number>> };
  /** The same traffic per transport: connections (none for UDP), requests and events handled, error replies. */
  transports: Record<TransportName, TransportStats>;
  /** The text gateway's chat: lines delivered to room members, and members cut off for not reading. */
  chat: { rooms: number; members: number; deliveries: number; cutOff: number };
  /**
   * UDP datagrams received; dropped without a reply (too large, empty, unreadable, or with a reply that
   * not even its REPLY_TOO_LARGE error fits the amplification allowance), in total and per reason;
   * and replies replaced by REPLY_TOO_LARGE.
   */
  datagrams: { received: number; dropped: number; droppedByReason: Partial<Record<UdpDropReason, number>>; repliesTooLarge: number };
}

export interface TransportStats {
  connections: { open: number; total: number };
  messages: number;
  errors: number;
}
