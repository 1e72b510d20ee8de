import type { ExecutionContext } from '@nestjs/common';
import { NO_MESSAGES } from '../../testing/no-messages';
import { TcpContext, type TcpSocket } from '@nestjs/microservices';
import type { TransportName } from '@echo-pair/common';
import { GatewayContext } from '../../core/gateway-context';
import { StatsGuard } from './stats.guard';
import { StatsService } from './stats.service';

/** Just enough of an RPC `ExecutionContext` for the guard: the transport's own context with its pattern. */
function rpcContext(pattern: string, transport: TransportName = 'tcp'): ExecutionContext {
  const context =
    transport === 'tcp' ? new TcpContext([{} as TcpSocket, pattern]) : new GatewayContext([pattern, transport, '127.0.0.1:1']);
  return {
    getType: () => 'rpc',
    switchToRpc: () => ({ getContext: () => context, getData: () => ({}) }),
  } as unknown as ExecutionContext;
}

describe('StatsGuard', () => {
  let stats: StatsService;
  let guard: StatsGuard;

  beforeEach(() => {
    stats = new StatsService();
    guard = new StatsGuard(stats);
  });

  it.each([
    { pattern: 'hello', kind: 'a request', messages: { ...NO_MESSAGES, hello: 1 }, events: { note: 0 } },
    { pattern: 'echo', kind: 'a request', messages: { ...NO_MESSAGES, echo: 1 }, events: { note: 0 } },
    { pattern: 'command', kind: 'a request', messages: { ...NO_MESSAGES, command: 1 }, events: { note: 0 } },
    { pattern: 'note', kind: 'an event', messages: { ...NO_MESSAGES }, events: { note: 1 } },
    { pattern: 'nope', kind: 'nothing', messages: { ...NO_MESSAGES }, events: { note: 0 } },
    { pattern: 'ECHO', kind: 'nothing', messages: { ...NO_MESSAGES }, events: { note: 0 } },
    { pattern: '', kind: 'nothing', messages: { ...NO_MESSAGES }, events: { note: 0 } },
  ])('counts "$pattern" as $kind and lets it through', ({ pattern, messages, events }) => {
    expect(guard.canActivate(rpcContext(pattern))).toBe(true);

    expect(stats.snapshot()).toMatchObject({ messages, events, errors: { total: 0 } });
  });

  it('adds up repeated calls', () => {
    for (const pattern of ['echo', 'echo', 'command', 'note', 'echo', 'unknown']) {
      guard.canActivate(rpcContext(pattern));
    }

    expect(stats.snapshot().messages).toEqual({ ...NO_MESSAGES, echo: 3, command: 1 });
    expect(stats.snapshot().events).toEqual({ note: 1 });
  });

  it('counts each call for its transport as well', () => {
    guard.canActivate(rpcContext('echo', 'tcp'));
    guard.canActivate(rpcContext('echo', 'text'));
    guard.canActivate(rpcContext('command', 'text'));
    guard.canActivate(rpcContext('note', 'udp'));
    guard.canActivate(rpcContext('unknown', 'udp'));

    const { transports, messages, events } = stats.snapshot();
    expect([transports.tcp.messages, transports.text.messages, transports.udp.messages]).toEqual([1, 2, 1]);
    expect(messages).toEqual({ ...NO_MESSAGES, echo: 2, command: 1 });
    expect(events).toEqual({ note: 1 });
  });

  it('lets calls of other kinds (HTTP) through uncounted', () => {
    const http = { getType: () => 'http', switchToRpc: () => ({ getContext: () => undefined }) } as unknown as ExecutionContext;

    expect(guard.canActivate(http)).toBe(true);
    expect(stats.snapshot().transports.tcp.messages).toBe(0);
  });
});
