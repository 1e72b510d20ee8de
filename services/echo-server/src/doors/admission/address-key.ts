import { isIPv4, isIPv6 } from 'node:net';

const MAPPED_IPV4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/**
 * The key a per-address limit counts a peer by: an IPv4 address as it is (an IPv4-mapped IPv6
 * address as its IPv4 form), an IPv6 address by its /64 network, which one subscriber is
 * usually given whole; anything else (a Unix socket, an unknown peer) as it is.
 * Hand-written rather than with ipaddr.js: the image ships only the hoisted node_modules, where
 * Express keeps ipaddr.js 1.x, and this needs one expansion of `::`.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') {
    return 'unknown';
  }
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped !== null) {
    return mapped[1];
  }
  const withoutZone = address.split('%')[0];
  if (isIPv4(withoutZone) || !isIPv6(withoutZone)) {
    return withoutZone;
  }
  return `${firstFourGroups(withoutZone).join(':')}::/64`;
}

/** The first four 16-bit groups of a valid IPv6 address, lower case without leading zeros. */
function firstFourGroups(address: string): string[] {
  const [head, tail] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // An embedded IPv4 tail (::1.2.3.4) takes two groups; only its count matters here.
  const tailLength = tailGroups.length + (tailGroups.at(-1)?.includes('.') ? 1 : 0);
  const groups =
    tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailLength).fill('0'), ...tailGroups];
  return groups.slice(0, 4).map((group) => (group.includes('.') ? group : Number.parseInt(group, 16).toString(16)));
}
