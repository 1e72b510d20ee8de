import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { lastValueFrom, of, throwError } from 'rxjs';
import { StatsInterceptor } from './stats.interceptor';
import { StatsService } from './stats.service';

/** Just enough of an RPC `ExecutionContext` for the interceptor: the TCP context's pattern. */
function rpcContext(pattern: string): ExecutionContext {
  return {
    switchToRpc: () => ({ getContext: () => ({ getPattern: () => pattern }), getData: () => ({}) }),
  } as unknown as ExecutionContext;
}

function handlerReturning(value: unknown): CallHandler & { handle: jest.Mock } {
  return { handle: jest.fn(() => of(value)) };
}

describe('StatsInterceptor', () => {
  let stats: StatsService;
  let interceptor: StatsInterceptor;

  beforeEach(() => {
    stats = new StatsService();
    interceptor = new StatsInterceptor(stats);
  });

  it.each([
    { pattern: 'hello', kind: 'a request', messages: { hello: 1, echo: 0, command: 0 }, events: { note: 0 } },
    { pattern: 'echo', kind: 'a request', messages: { hello: 0, echo: 1, command: 0 }, events: { note: 0 } },
    { pattern: 'command', kind: 'a request', messages: { hello: 0, echo: 0, command: 1 }, events: { note: 0 } },
    { pattern: 'note', kind: 'an event', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 1 } },
    { pattern: 'nope', kind: 'nothing', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 0 } },
    { pattern: 'ECHO', kind: 'nothing', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 0 } },
    { pattern: '', kind: 'nothing', messages: { hello: 0, echo: 0, command: 0 }, events: { note: 0 } },
  ])('counts "$pattern" as $kind', async ({ pattern, messages, events }) => {
    const next = handlerReturning('reply');

    await expect(lastValueFrom(interceptor.intercept(rpcContext(pattern), next))).resolves.toBe('reply');

    expect(next.handle).toHaveBeenCalledTimes(1);
    expect(stats.snapshot()).toMatchObject({ messages, events, errors: { total: 0 } });
  });

  it('counts before the handler runs, so failed calls count too', async () => {
    const failure = new Error('validation failed');
    const next: CallHandler = { handle: () => throwError(() => failure) };

    const reply = interceptor.intercept(rpcContext('echo'), next);
    expect(stats.snapshot().messages.echo).toBe(1);
    await expect(lastValueFrom(reply)).rejects.toBe(failure);
    expect(stats.snapshot().messages.echo).toBe(1);
  });

  it('adds up repeated calls', () => {
    for (const pattern of ['echo', 'echo', 'command', 'note', 'echo', 'unknown']) {
      interceptor.intercept(rpcContext(pattern), handlerReturning(null));
    }

    expect(stats.snapshot().messages).toEqual({ hello: 0, echo: 3, command: 1 });
    expect(stats.snapshot().events).toEqual({ note: 1 });
  });
});
