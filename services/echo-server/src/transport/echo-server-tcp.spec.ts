import { ServerTCP } from '@nestjs/microservices';
import { EchoServerTcp } from './echo-server-tcp';

/** Exposes the protected lookup of both classes, to compare them. */
function routeOf(server: ServerTCP, pattern: string): string {
  return (server as unknown as { getRouteFromPattern(pattern: string): string }).getRouteFromPattern(pattern);
}

describe('EchoServerTcp', () => {
  const ours = new EchoServerTcp({ port: 0 });
  const stock = new ServerTCP({ port: 0 });

  it.each([
    'echo',
    'hello',
    'command',
    'note',
    'Echo',
    'my-pattern',
    'user.created',
    '{"cmd":"sum"}',
    '{"b":1,"a":2}',
    '["x"]',
    '"quoted"',
    '42',
    '-1',
    'true',
    'null',
    ' {"cmd":"x"}',
    '{not json',
    '',
  ])('routes %j exactly as the stock server does', (pattern) => {
    expect(routeOf(ours, pattern)).toBe(routeOf(stock, pattern));
  });

  it('does not try to parse a plain name', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      routeOf(ours, 'echo');
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});
