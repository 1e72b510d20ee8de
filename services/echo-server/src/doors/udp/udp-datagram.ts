import type { PacketMetadata } from '@nestjs/microservices';
import type { RemoteInfo } from 'node:dgram';
import type { UdpDropReason } from '@echo-pair/common';
import { decodeText } from '../text/text-codec';

/** A Nest packet read from a datagram: a request when it has an id, else an event. */
export interface NestPacket {
  pattern: string;
  data: unknown;
  id?: string;
  /** Out-of-band values of the packet (the client's trace context), as Nest TCP's packets carry them. */
  metadata?: PacketMetadata;
}

const OPENING_BRACE = 0x7b;

/** Whether the datagram opens like JSON (`{` after whitespace): it is then a Nest packet or nothing. */
export function opensLikeJson(message: Buffer): boolean {
  return message[firstNonSpace(message)] === OPENING_BRACE;
}

/** The sender as `host:port` for the call's context (an IPv6 address bracketed). */
export function peerOf(sender: RemoteInfo): string {
  return `${sender.family === 'IPv6' ? `[${sender.address}]` : sender.address}:${sender.port}`;
}

/**
 * The datagram as a Nest packet, if it is one: a JSON object with a string pattern (and, for a
 * request, a string id), in well-formed UTF-8. Else why it is dropped: decoding bad bytes as
 * U+FFFD would make each of them three bytes in the reply's id or echoed text.
 */
export function asPacket(message: Buffer): NestPacket | UdpDropReason {
  const json = decodeText(message, 'utf-8');
  if (json === undefined) {
    return 'INVALID_UTF8';
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'NOT_A_PACKET';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'NOT_A_PACKET';
  }
  const { pattern, data, id, metadata } = value as Record<string, unknown>;
  if (typeof pattern !== 'string' || (id !== undefined && typeof id !== 'string')) {
    return 'NOT_A_PACKET';
  }
  const packet: NestPacket = id === undefined ? { pattern, data } : { pattern, data, id };
  // Metadata that is not an object is ignored, as a stock server would: it is out of band, never a reason to drop the call.
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
    packet.metadata = metadata as PacketMetadata;
  }
  return packet;
}

function firstNonSpace(message: Buffer): number {
  let index = 0;
  while (
    index < message.length &&
    (message[index] === 0x20 || message[index] === 0x09 || message[index] === 0x0a || message[index] === 0x0d)
  ) {
    index += 1;
  }
  return index;
}

/** A datagram is one line: a trailing `\n` or `\r\n`, as `nc -u` sends it, is not part of it. */
export function withoutLineEnd(message: Buffer): Buffer {
  let end = message.length;
  if (message[end - 1] === 0x0a) {
    end -= 1;
    if (message[end - 1] === 0x0d) {
      end -= 1;
    }
  }
  return end === message.length ? message : message.subarray(0, end);
}
