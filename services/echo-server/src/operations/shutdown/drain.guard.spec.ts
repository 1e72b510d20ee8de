import { TcpContext, type TcpSocket } from '@nestjs/microservices';
import type { ExecutionContext } from '@nestjs/common';
import { ErrorCodes } from '@echo-pair/common';
import { RpcEnvelopeException } from '../../core/rpc-envelope.exception';
import { DrainGuard } from './drain.guard';
import type { DrainService } from './drain.service';

function contextFor(pattern: string): ExecutionContext {
  return {
    getType: () => 'rpc',
    switchToRpc: () => ({ getContext: () => new TcpContext([{} as TcpSocket, pattern]) }),
  } as unknown as ExecutionContext;
}

/** An HTTP request of the side port: `switchToRpc().getContext()` would be its response object. */
function httpContext(): ExecutionContext {
  return {
    getType: () => 'http',
    switchToRpc: () => ({ getContext: () => ({ statusCode: 200 }) }),
    switchToHttp: () => ({ getRequest: () => ({ url: '/readyz' }), getResponse: () => ({ statusCode: 200 }) }),
  } as unknown as ExecutionContext;
}

describe('DrainGuard', () => {
  it('lets every call through while the server serves', () => {
    const guard = new DrainGuard({ draining: false } as DrainService);

    expect(guard.canActivate(contextFor('echo'))).toBe(true);
    expect(guard.canActivate(contextFor('note'))).toBe(true);
  });

  it.each(['echo', 'hello', 'command'])('refuses a %s request during the drain with the retryable SHUTTING_DOWN envelope', (pattern) => {
    const guard = new DrainGuard({ draining: true } as DrainService);

    let thrown: unknown;
    try {
      guard.canActivate(contextFor(pattern));
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(RpcEnvelopeException);
    expect((thrown as RpcEnvelopeException).envelope).toEqual({
      code: ErrorCodes.SHUTTING_DOWN,
      message: expect.stringContaining('shutting down') as string,
      details: { retryable: true },
    });
  });

  it('lets HTTP requests of the side port through during the drain: /readyz must answer for itself', () => {
    const guard = new DrainGuard({ draining: true } as DrainService);

    expect(guard.canActivate(httpContext())).toBe(true);
  });

  it('still lets an event through during the drain: it has no reply to refuse with', () => {
    const guard = new DrainGuard({ draining: true } as DrainService);

    expect(guard.canActivate(contextFor('note'))).toBe(true);
  });
});
