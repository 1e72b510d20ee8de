import { ServerTCP } from '@nestjs/microservices';

/** Characters a JSON text can begin with: whitespace, `{`, `[`, `"`, `-`, a digit, or `t`/`f`/`n` of true/false/null. */
const JSON_START = /^[\s{["\-0-9tfn]/;

/**
 * Nest's TCP transport server with a cheaper route lookup, and nothing else changed.
 * Stock `getRouteFromPattern` runs `JSON.parse` on every string pattern; for a plain
 * name like `echo` that throws and builds a stack trace per message, the largest single
 * server cost `npm run bench` profiled (about a third of A's CPU per request). A pattern
 * whose first character cannot begin JSON cannot parse, so it is used as it is, exactly
 * as the stock fallback would; any other pattern takes the stock path.
 */
export class EchoServerTcp extends ServerTCP {
  protected override getRouteFromPattern(pattern: string): string {
    return JSON_START.test(pattern) ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }
}
