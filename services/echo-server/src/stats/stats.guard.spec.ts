import type { ExecutionContext } from '@nestjs/common';
import { StatsGuard } from './stats.guard';
import { StatsService } from './stats.service';

/** Just enough of an RPC `ExecutionContext` for the guard: the TCP context's pattern. */
function rpcContext(pattern: string): ExecutionContext {
  return {
    switchToRpc: () => ({ getContext: () => ({ getPattern: () => pattern }), getData: () => ({}) }),
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
    { pattern: 'hello', kind: 'a request', messages: { hello: 1, echo: 0, command: 0 }, events: { note: 0 } },
    { pattern: 'echo', kind: 'a request', messages: { hello: 0, echo: 1, command: 0 }, events: { note: 0 } },
    { pattern: 'command', kind: 'a request', messages: { hello: 0, echo: 0, command: 1 }, events: { note: 0 } },
    { pattern: 'note', kind: 'an event', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 1 } },
    { pattern: 'nope', kind: 'nothing', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 0 } },
    { pattern: 'ECHO', kind: 'nothing', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 0 } },
    { pattern: '', kind: 'nothing', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 0 } },
  ])('counts "$pattern" as $kind and lets it through', ({ pattern, messages, events }) => {
    expect(guard.canActivate(rpcContext(pattern))).toBe(true);

    expect(stats.snapshot()).toMatchObject({ messages, events, errors: { total: 0 } });
  });

  it('adds up repeated calls', () => {
    for (const pattern of ['echo', 'echo', 'command', 'note', 'echo', 'unknown']) {
      guard.canActivate(rpcContext(pattern));
    }

    expect(stats.snapshot().messages).toEqual({ hello: 0, echo: 3, command: 1 });
    expect(stats.snapshot().events).toEqual({ note: 1 });
  });
});
