import { UDP_MIN_REQUEST_BYTES } from '../../contract/transports';
import type { UdpOptions } from '../echo-client-options';

/** Retransmission waits double up to this, in milliseconds. */
export const UDP_MAX_RETRANSMIT_MS = 1_000;

const DEFAULT_UDP: Required<UdpOptions> = { maxDatagramBytes: 16_384, retransmitAfterMs: 200 };

/** The largest UDP payload over IPv4. */
const MAX_UDP_PAYLOAD_BYTES = 65_507;

/** `options` with the defaults filled in; throws a `RangeError` for a value out of range. */
export function udpSettings(options: UdpOptions): Required<UdpOptions> {
  const maxDatagramBytes = options.maxDatagramBytes ?? DEFAULT_UDP.maxDatagramBytes;
  const retransmitAfterMs = options.retransmitAfterMs ?? DEFAULT_UDP.retransmitAfterMs;
  if (!Number.isInteger(maxDatagramBytes) || maxDatagramBytes < UDP_MIN_REQUEST_BYTES || maxDatagramBytes > MAX_UDP_PAYLOAD_BYTES) {
    throw new RangeError(
      `maxDatagramBytes must be an integer from ${UDP_MIN_REQUEST_BYTES} to ${MAX_UDP_PAYLOAD_BYTES}, got ${maxDatagramBytes}`,
    );
  }
  if (!Number.isInteger(retransmitAfterMs) || retransmitAfterMs < 1) {
    throw new RangeError(`retransmitAfterMs must be a positive integer, got ${retransmitAfterMs}`);
  }
  return { maxDatagramBytes, retransmitAfterMs };
}
