import type { TransportName } from '@echo-pair/common';

/** A connection refused on arrival by a per-address limit. */
export interface ConnectionRefusal {
  transport: TransportName;
  /** The setting whose limit refused it. */
  limit: 'MAX_CONNECTIONS_PER_ADDRESS';
  /** `address:port` of the peer. */
  peer: string;
  /** The address key it counted against (an IPv6 /64 as one). */
  address: string;
  max: number;
}

/** A connection closed to make room for a newcomer, at its door's global cap. */
export interface ConnectionEviction {
  transport: TransportName;
  peer: string;
  address: string;
  /** The door's cap setting: MAX_CONNECTIONS or TEXT_MAX_CONNECTIONS. */
  setting: string;
  /** How long it had been without a complete line or frame. */
  idleMs: number;
}

/** What a connection door reports about its connection limits (to the connection tracker). */
export interface AdmissionReport {
  refused(refusal: ConnectionRefusal): void;
  evicted(eviction: ConnectionEviction): void;
}
