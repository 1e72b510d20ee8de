import { ValidateBy, type ValidationArguments } from 'class-validator';
import { parseTrustedProxies } from './trusted-proxies';

const EXPECTED = 'a comma-separated list of IPv4/IPv6 addresses and CIDR ranges, e.g. 127.0.0.1,10.0.0.0/8,fd00::/8';

/**
 * A setting holding addresses and CIDR ranges (TRUSTED_PROXIES): valid when `parseTrustedProxies`
 * accepts it; the message names the bad entry (`entry 2 "10.0.0.0/33" has prefix length "33": 0 to 32 for IPv4`).
 */
export function IsAddressList(): PropertyDecorator {
  return ValidateBy({
    name: 'isAddressList',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseTrustedProxies(value).ok,
      defaultMessage: ({ value }: ValidationArguments) => {
        const parsed = typeof value === 'string' ? parseTrustedProxies(value) : undefined;
        return parsed === undefined || parsed.ok ? `must be ${EXPECTED}` : `${parsed.error} (${EXPECTED})`;
      },
    },
  });
}
