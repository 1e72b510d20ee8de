import { Logger } from '@nestjs/common';
import { defaultMaxBufferedBytes, TransportDefaults } from '../contract/wire-limits';
import type { SocketRejection } from '../contract/socket-rejection';

export interface FramedJsonSocketOptions {
  /** Largest announced frame length, in UTF-16 code units of the JSON text. */
  maxFrameLength?: number;
  /** Most bytes held for a connection (partial frame plus unread input); defaults to 3 × maxFrameLength + 64 KiB. */
  maxBufferedBytes?: number;
  /** A frame still incomplete this long after it began closes the connection; 0 disables. */
  incompleteFrameTimeoutMs?: number;
  /** Bytes of outgoing frames that may wait for the peer before the connection is closed; 0 disables. */
  maxSendBufferBytes?: number;
  /** Turns Nagle's algorithm off (the default): small replies leave at once instead of waiting for the peer's delayed ACK. */
  noDelay?: boolean;
  /** Called once for every connection the socket closes because of the peer; logs a warning by default. */
  onRejection?: (rejection: SocketRejection) => void;
}

export type FramedJsonSocketSettings = Required<FramedJsonSocketOptions>;

const logger = new Logger('FramedJsonSocket');

function logRejection({ reason, peer, detail }: SocketRejection): void {
  logger.warn(`connection from ${peer} rejected: ${reason} (${detail})`);
}

export function resolveFramedJsonSocketOptions(options: FramedJsonSocketOptions = {}): FramedJsonSocketSettings {
  const maxFrameLength = options.maxFrameLength ?? TransportDefaults.maxFrameLength;
  return {
    maxFrameLength,
    maxBufferedBytes: options.maxBufferedBytes || defaultMaxBufferedBytes(maxFrameLength),
    incompleteFrameTimeoutMs: options.incompleteFrameTimeoutMs ?? TransportDefaults.incompleteFrameTimeoutMs,
    maxSendBufferBytes: options.maxSendBufferBytes ?? TransportDefaults.maxSendBufferBytes,
    noDelay: options.noDelay ?? true,
    onRejection: options.onRejection ?? logRejection,
  };
}
