import { InvalidConfigurationError, validateEnvironment } from '@echo-pair/common';
import fc from 'fast-check';
import { IsAddressList } from './is-address-list.decorator';
import { parseTrustedProxies, TrustedProxies } from './trusted-proxies';

describe('TrustedProxies', () => {
  it.each([undefined, '', '   '])('is empty for %j and trusts no one', (setting) => {
    const proxies = TrustedProxies.from(setting);
    expect(proxies.isEmpty).toBe(true);
    expect(proxies.entries).toEqual([]);
    expect(['127.0.0.1', '::1', '::ffff:127.0.0.1'].map((address) => proxies.trusts(address))).toEqual([false, false, false]);
  });

  const proxies = TrustedProxies.from('127.0.0.1, 10.0.0.0/8 ,fd00::/8,2001:db8::7');

  it('keeps the entries as given, trimmed', () => {
    expect(proxies.entries).toEqual(['127.0.0.1', '10.0.0.0/8', 'fd00::/8', '2001:db8::7']);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.0.0.2', false],
    ['10.0.0.0', true],
    ['10.255.255.255', true],
    ['11.0.0.1', false],
    ['9.255.255.255', false],
    ['fd00::1', true],
    ['fdff:ffff::1', true],
    ['fe00::1', false],
    ['2001:db8::7', true],
    ['2001:DB8:0::7', true],
    ['2001:db8::8', false],
    ['::1', false],
  ])('trusts %s: %s', (address, trusted) => {
    expect(proxies.trusts(address)).toBe(trusted);
  });

  it.each([
    ['::ffff:127.0.0.1', true],
    ['::ffff:10.1.2.3', true],
    ['::ffff:11.1.2.3', false],
    ['::ffff:7f00:1', true],
  ])('reads an IPv4-mapped IPv6 peer (a dual-stack listener’s) %s as its IPv4 address: %s', (address, trusted) => {
    expect(proxies.trusts(address)).toBe(trusted);
  });

  it('matches an IPv4 peer against an IPv4-mapped entry too', () => {
    expect(TrustedProxies.from('::ffff:192.0.2.1').trusts('192.0.2.1')).toBe(true);
  });

  it('matches a link-local peer that carries a zone index', () => {
    expect(TrustedProxies.from('fe80::/10').trusts('fe80::1%eth0')).toBe(true);
  });

  it.each([undefined, '', 'not-an-ip', '127.0.0.1:80', '[::1]'])('trusts no peer address like %j', (address) => {
    expect(TrustedProxies.from('0.0.0.0/0,::/0').trusts(address)).toBe(false);
  });

  it('takes a range with host bits set as its network', () => {
    const masked = TrustedProxies.from('10.1.2.3/8');
    expect([masked.trusts('10.200.0.1'), masked.trusts('11.0.0.1')]).toEqual([true, false]);
  });

  it('trusts all of IPv4 with 0.0.0.0/0, but no IPv6 address outside the mapped range', () => {
    const all = TrustedProxies.from('0.0.0.0/0');
    expect([all.trusts('203.0.113.7'), all.trusts('::ffff:203.0.113.7'), all.trusts('2001:db8::1')]).toEqual([true, true, false]);
  });

  it('trusts any address an entry names and any in its range (a property over addresses and prefixes)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), (address, prefix) => {
        const parsed = parseTrustedProxies(`${address}/${prefix}`);
        expect(parsed.ok && parsed.proxies.trusts(address) && parsed.proxies.trusts(`::ffff:${address}`)).toBe(true);
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.ipV6(), (address) => {
        const parsed = parseTrustedProxies(address);
        expect(parsed.ok && parsed.proxies.trusts(address)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['127.0.0.1,', 'entry 2 is empty (a stray comma?)'],
    [',127.0.0.1', 'entry 1 is empty (a stray comma?)'],
    ['127.0.0.1,,10.0.0.1', 'entry 2 is empty (a stray comma?)'],
    ['localhost', 'entry 1 "localhost" is not an IPv4 or IPv6 address, nor a CIDR range like 10.0.0.0/8 or fd00::/8'],
    ['127.0.0.1:80', 'entry 1 "127.0.0.1:80" is not an IPv4 or IPv6 address'],
    ['[::1]', 'entry 1 "[::1]" is not an IPv4 or IPv6 address'],
    ['127.0.0.01', 'entry 1 "127.0.0.01" is not an IPv4 or IPv6 address'],
    ['10.0.0.0/33', 'entry 1 "10.0.0.0/33" has prefix length "33": 0 to 32 for IPv4'],
    ['fd00::/129', 'entry 1 "fd00::/129" has prefix length "129": 0 to 128 for IPv6'],
    ['10.0.0.0/', 'entry 1 "10.0.0.0/" has prefix length "": 0 to 32 for IPv4'],
    ['10.0.0.0/08', 'entry 1 "10.0.0.0/08" has prefix length "08"'],
    ['10.0.0.0/-1', 'entry 1 "10.0.0.0/-1" has prefix length "-1"'],
    ['10.0.0.0/8/8', 'entry 1 "10.0.0.0/8/8" has prefix length "8/8"'],
    ['10.0.0.0 /8', 'entry 1 "10.0.0.0 /8" is not an IPv4 or IPv6 address'],
    ['/8', 'entry 1 "/8" is not an IPv4 or IPv6 address'],
    ['fe80::1%eth0', 'entry 1 "fe80::1%eth0" has an IPv6 zone index, which a trusted proxy entry cannot have'],
    ['127.0.0.1;10.0.0.1', 'entry 1 "127.0.0.1;10.0.0.1" is not an IPv4 or IPv6 address'],
    ['127.0.0.1 10.0.0.1', 'entry 1 "127.0.0.1 10.0.0.1" is not an IPv4 or IPv6 address'],
    ['10.0.0.1,2001:db8::/200', 'entry 2 "2001:db8::/200" has prefix length "200": 0 to 128 for IPv6'],
  ])('refuses %j: %s', (setting, error) => {
    const parsed = parseTrustedProxies(setting);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? undefined : parsed.error).toMatch(new RegExp(`^${error.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    expect(() => TrustedProxies.from(setting)).toThrow(`TRUSTED_PROXIES: ${error}`);
  });
});

class ProxySettings {
  @IsAddressList()
  TRUSTED_PROXIES = '';
}

describe('IsAddressList', () => {
  it('accepts a valid list and the empty default', () => {
    expect(validateEnvironment(ProxySettings, { TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8,fd00::/8' }).TRUSTED_PROXIES).toBe(
      '127.0.0.1,10.0.0.0/8,fd00::/8',
    );
    expect(validateEnvironment(ProxySettings, {}).TRUSTED_PROXIES).toBe('');
  });

  it('refuses a bad entry with a message naming it and the expected form', () => {
    expect(() => validateEnvironment(ProxySettings, { TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/33' })).toThrow(InvalidConfigurationError);
    expect(() => validateEnvironment(ProxySettings, { TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/33' })).toThrow(
      'TRUSTED_PROXIES="127.0.0.1,10.0.0.0/33": entry 2 "10.0.0.0/33" has prefix length "33": 0 to 32 for IPv4 ' +
        '(a comma-separated list of IPv4/IPv6 addresses and CIDR ranges, e.g. 127.0.0.1,10.0.0.0/8,fd00::/8)',
    );
  });

  it('refuses a value that is not a string', () => {
    expect(() => validateEnvironment(ProxySettings, { TRUSTED_PROXIES: 42 })).toThrow(
      'TRUSTED_PROXIES=42: must be a comma-separated list of IPv4/IPv6 addresses',
    );
  });
});
