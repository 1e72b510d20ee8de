import type { PacketMetadata } from '@nestjs/microservices';
import { UDP_MIN_REQUEST_BYTES } from '../contract/transports';
import { isTracingOn } from './trace-context/tracing-state';

/** Request ids are UUIDs: random, and all of one length, so that `requestDatagramBytes` knows a datagram's size before its id is drawn. */
const UUID_SIZED_ID = '00000000-0000-0000-0000-000000000000';

/**
 * The `metadata` a datagram carries with tracing on: a W3C `traceparent` is always this long.
 * (A `tracestate` or `baggage` of an upstream caller would add its own length.)
 */
const TRACED_METADATA: PacketMetadata = { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' };

/** A reply datagram: Nest TCP's reply packet. */
export interface Reply {
  id: string;
  err?: unknown;
  response?: unknown;
  isDisposed?: boolean;
}

/** The size in bytes of the datagram that carries this request, padding included (and, with tracing on, its trace context). */
export function requestDatagramBytes(pattern: string, data: unknown): number {
  return encodeDatagram(pattern, data, UUID_SIZED_ID, isTracingOn() ? TRACED_METADATA : undefined).length;
}

/**
 * A Nest packet as JSON, padded with spaces (JSON whitespace) to `UDP_MIN_REQUEST_BYTES`. Its
 * `metadata` (the trace context, with tracing on) is written only when there is one, so that a
 * datagram without is exactly what it was before.
 */
export function encodeDatagram(pattern: string, data: unknown, id?: string, metadata?: PacketMetadata): Buffer {
  const packet: { pattern: string; data: unknown; id?: string; metadata?: PacketMetadata } = { pattern, data };
  if (id !== undefined) {
    packet.id = id;
  }
  if (metadata !== undefined) {
    packet.metadata = metadata;
  }
  const json = JSON.stringify(packet);
  const bytes = Buffer.byteLength(json, 'utf8');
  return Buffer.from(bytes < UDP_MIN_REQUEST_BYTES ? json + ' '.repeat(UDP_MIN_REQUEST_BYTES - bytes) : json, 'utf8');
}

/** The reply in a datagram, if it holds one: a JSON object with a string id. */
export function parseReply(datagram: Buffer): Reply | undefined {
  let value: unknown;
  try {
    value = JSON.parse(datagram.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || typeof (value as { id?: unknown }).id !== 'string') {
    return undefined;
  }
  return value as Reply;
}
