import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** What `parseTrustedProxies` makes of a TRUSTED_PROXIES setting. */
export type TrustedProxiesParse = { ok: true; proxies: TrustedProxies } | { ok: false; error: string };

/**
 * The peers whose PROXY headers are believed: a `node:net` BlockList of addresses and CIDR ranges.
 * An IPv4 entry also matches the IPv4-mapped IPv6 form a dual-stack listener reports
 * (`::ffff:127.0.0.1` for `127.0.0.1`), BlockList's own rule.
 */
export class TrustedProxies {
  /** No trusted proxy: every peer is served as a direct client. */
  static readonly NONE = new TrustedProxies(new BlockList(), []);

  private constructor(
    private readonly list: BlockList,
    /** The entries as given, trimmed (`127.0.0.1`, `10.0.0.0/8`), for logs. */
    readonly entries: readonly string[],
  ) {}

  /**
   * Parses TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses and CIDR ranges
   * (`127.0.0.1,10.0.0.0/8,fd00::/8`); blanks around entries are ignored, an empty or blank setting
   * is an empty list. A bad entry gives an error that names it and says why; a range with host bits
   * set (`10.1.2.3/8`) is accepted as its network (`10.0.0.0/8`), as BlockList masks it.
   */
  static parse(setting: string | undefined): TrustedProxiesParse {
    if (setting === undefined || setting.trim() === '') {
      return { ok: true, proxies: TrustedProxies.NONE };
    }
    const list = new BlockList();
    const entries = setting.split(',').map((entry) => entry.trim());
    for (const [index, entry] of entries.entries()) {
      const error = entry === '' ? 'is empty (a stray comma?)' : addEntry(list, entry);
      if (error !== undefined) {
        return { ok: false, error: `entry ${index + 1}${entry === '' ? '' : ` ${JSON.stringify(entry)}`} ${error}` };
      }
    }
    return { ok: true, proxies: new TrustedProxies(list, entries) };
  }

  /** The list of a setting, or throws an Error whose message names the bad entry. */
  static from(setting: string | undefined): TrustedProxies {
    const parsed = TrustedProxies.parse(setting);
    if (!parsed.ok) {
      throw new Error(`TRUSTED_PROXIES: ${parsed.error}`);
    }
    return parsed.proxies;
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  /** Whether a peer address (a socket's `remoteAddress`) is a trusted proxy's; false for none or a non-IP one. */
  trusts(address: string | undefined): boolean {
    if (address === undefined || this.isEmpty) {
      return false;
    }
    if (isIPv4(address)) {
      return this.list.check(address, 'ipv4');
    }
    // A link-local peer may carry a zone (`fe80::1%eth0`); its address is what the entries name.
    const withoutZone = address.split('%', 1)[0];
    return isIPv6(withoutZone) && this.list.check(withoutZone, 'ipv6');
  }
}

/** `TrustedProxies.parse`, for the setting's validation (`IsAddressList`). */
export function parseTrustedProxies(setting: string | undefined): TrustedProxiesParse {
  return TrustedProxies.parse(setting);
}

/** Adds one entry; what is wrong with it, if anything. */
function addEntry(list: BlockList, entry: string): string | undefined {
  const slash = entry.indexOf('/');
  const address = slash === -1 ? entry : entry.slice(0, slash);
  if (address.includes('%')) {
    return 'has an IPv6 zone index, which a trusted proxy entry cannot have';
  }
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  if (family === undefined) {
    return 'is not an IPv4 or IPv6 address, nor a CIDR range like 10.0.0.0/8 or fd00::/8';
  }
  if (slash === -1) {
    list.addAddress(address, family);
    return undefined;
  }
  const prefix = entry.slice(slash + 1);
  const maximum = family === 'ipv4' ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefix) || Number(prefix) > maximum) {
    return `has prefix length ${JSON.stringify(prefix)}: 0 to ${maximum} for ${family === 'ipv4' ? 'IPv4' : 'IPv6'}`;
  }
  list.addSubnet(address, Number(prefix), family);
  return undefined;
}
