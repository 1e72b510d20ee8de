import { BadRequestException, HttpException, Logger, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { RpcException, TcpContext, type TcpSocket } from '@nestjs/microservices';
import { ErrorCodes, type RpcErrorEnvelope } from '@echo-pair/common';
import { lastValueFrom, type Observable } from 'rxjs';
import type { DrainService } from '../shutdown/drain.service';
import { StatsService } from '../stats/stats.service';
import { RpcEnvelopeException } from '../../core/rpc-envelope.exception';
import { RpcErrorEnvelopeFilter } from './rpc-error-envelope.filter';

/** An RPC `ArgumentsHost` whose context is a real `TcpContext` over a fake socket. */
function tcpHost(pattern: string, remoteAddress = '127.0.0.1', remotePort = 5050): ArgumentsHost {
  const socketRef = { netSocket: { remoteAddress, remotePort } } as unknown as TcpSocket;
  const context = new TcpContext([socketRef, pattern]);
  return { getType: () => 'rpc', switchToRpc: () => ({ getContext: () => context, getData: () => ({}) }) } as unknown as ArgumentsHost;
}

function hostWithoutContext(): ArgumentsHost {
  return {
    getType: () => 'rpc',
    switchToRpc: () => ({ getContext: () => undefined, getData: () => undefined }),
  } as unknown as ArgumentsHost;
}

/** An HTTP request of the side port: argument 1 is the response. */
function httpHost(): ArgumentsHost {
  const response = { statusCode: 200 };
  return {
    getType: () => 'http',
    getArgByIndex: (index: number) => [{ url: '/nope' }, response][index],
    switchToRpc: () => ({ getContext: () => response }),
  } as unknown as ArgumentsHost;
}

async function errorOf(reply: Observable<never> | void): Promise<unknown> {
  if (reply === undefined) {
    throw new Error('expected an RPC reply, the filter returned nothing');
  }
  return lastValueFrom(reply).then(
    () => {
      throw new Error('expected the reply to error');
    },
    (error: unknown) => error,
  );
}

describe('RpcErrorEnvelopeFilter', () => {
  let stats: StatsService;
  let filter: RpcErrorEnvelopeFilter;
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;

  beforeEach(() => {
    stats = new StatsService();
    filter = new RpcErrorEnvelopeFilter(stats, { failed: jest.fn() } as unknown as DrainService);
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('a contract envelope', () => {
    const envelope: RpcErrorEnvelope = {
      code: ErrorCodes.UNKNOWN_COMMAND,
      message: 'unknown command "nope"; known commands: upper',
      details: { command: 'nope', knownCommands: ['upper'] },
    };

    it.each([
      { label: 'an RpcEnvelopeException', exception: new RpcEnvelopeException(envelope) },
      { label: 'a plain RpcException', exception: new RpcException(envelope) },
    ])('passes through from $label, counted and logged as a warning', async ({ exception }) => {
      const reply = filter.catch(exception, tcpHost('command'));

      await expect(errorOf(reply)).resolves.toBe(envelope);
      expect(stats.snapshot().errors).toEqual({ total: 1, byCode: { UNKNOWN_COMMAND: 1 } });
      expect(warn).toHaveBeenCalledWith(`"command" from 127.0.0.1:5050: UNKNOWN_COMMAND ${JSON.stringify(envelope.message)}`);
      expect(error).not.toHaveBeenCalled();
    });
  });

  it("turns a BadRequestException (Nest's parsing pipes) into VALIDATION_FAILED with its message", async () => {
    const exception = new BadRequestException('Validation failed (numeric string is expected)');
    const envelope = await errorOf(filter.catch(exception, tcpHost('echo')));

    expect(envelope).toEqual({ code: ErrorCodes.VALIDATION_FAILED, message: exception.message, details: { violations: [] } });
    expect(stats.snapshot().errors).toEqual({ total: 1, byCode: { VALIDATION_FAILED: 1 } });
    expect(warn).toHaveBeenCalledWith(`"echo" from 127.0.0.1:5050: VALIDATION_FAILED ${JSON.stringify(exception.message)}`);
  });

  it('passes INVALID_RESPONSE through, counted, and logs it as an error in one line naming the pattern and the fields', async () => {
    const envelope: RpcErrorEnvelope = {
      code: ErrorCodes.INVALID_RESPONSE,
      message: 'invalid response to "command": output: output must be a string',
      details: { pattern: 'command', violations: [{ field: 'output', constraints: { isString: 'output must be a string' } }] },
    };

    await expect(errorOf(filter.catch(new RpcEnvelopeException(envelope), tcpHost('command')))).resolves.toBe(envelope);

    expect(stats.snapshot().errors).toEqual({ total: 1, byCode: { INVALID_RESPONSE: 1 } });
    expect(error).toHaveBeenCalledTimes(1);
    expect(error).toHaveBeenCalledWith(`"command" from 127.0.0.1:5050: INVALID_RESPONSE ${JSON.stringify(envelope.message)}`);
    expect(warn).not.toHaveBeenCalled();
  });

  it('quotes a peer-chosen message in the log, so that it cannot forge a log line', async () => {
    const message = 'unknown command "x\n[echo-server] FAKE"';
    await errorOf(
      filter.catch(
        new RpcEnvelopeException({ code: 'UNKNOWN_COMMAND', message, details: { command: 'x', knownCommands: [] } }),
        tcpHost('command'),
      ),
    );

    const [line] = warn.mock.calls[0] as [string];
    expect(line).not.toContain('\n');
    expect(line).toContain(JSON.stringify(message));
  });

  it.each([
    { label: 'an Error', exception: new Error('db password is hunter2') },
    { label: 'a NotFoundException', exception: new NotFoundException('hunter2 not found') },
    { label: 'a bare HttpException', exception: new HttpException('hunter2 is a teapot', 418) },
    { label: 'a TypeError', exception: new TypeError("Cannot read properties of undefined (reading 'hunter2')") },
    { label: 'an RpcException with a string', exception: new RpcException('hunter2 leaked') },
    { label: 'an RpcException with an unknown code', exception: new RpcException({ code: 'SECRET', message: 'hunter2', details: {} }) },
    {
      label: 'an RpcException with an envelope missing details',
      exception: new RpcException({ code: 'UNKNOWN_COMMAND', message: 'hunter2' }),
    },
    { label: 'a thrown string', exception: 'hunter2' },
    { label: 'a thrown object', exception: { message: 'hunter2' } },
    { label: 'undefined', exception: undefined },
  ])('turns $label into INTERNAL_ERROR without leaking its message', async ({ exception }) => {
    const envelope = await errorOf(filter.catch(exception, tcpHost('command')));

    expect(envelope).toEqual({ code: ErrorCodes.INTERNAL_ERROR, message: 'internal server error', details: {} });
    expect(JSON.stringify(envelope)).not.toContain('hunter2');
    expect(stats.snapshot().errors).toEqual({ total: 1, byCode: { INTERNAL_ERROR: 1 } });
    expect(warn).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('logs an internal error with its message and stack', async () => {
    const exception = new Error('db password is hunter2');

    await errorOf(filter.catch(exception, tcpHost('command', '10.1.2.3', 4242)));

    expect(error).toHaveBeenCalledWith('"command" from 10.1.2.3:4242: db password is hunter2', exception.stack);
  });

  it.each([
    { thrown: 'plain string', logged: 'plain string' },
    { thrown: { reason: 'no message' }, logged: "{ reason: 'no message' }" },
  ])('logs the non-Error $thrown readably, without a stack', async ({ thrown, logged }) => {
    await errorOf(filter.catch(thrown, tcpHost('echo')));

    expect(error).toHaveBeenCalledWith(`"echo" from 127.0.0.1:5050: ${logged}`, undefined);
  });

  it('says "unknown call" when there is no TCP context', async () => {
    await errorOf(filter.catch(new BadRequestException('bad'), hostWithoutContext()));

    expect(warn).toHaveBeenCalledWith('unknown call: VALIDATION_FAILED "bad"');
  });

  it('says "unknown peer" when the socket is gone', async () => {
    const context = new TcpContext([{ netSocket: undefined } as unknown as TcpSocket, 'hello']);
    const host = { getType: () => 'rpc', switchToRpc: () => ({ getContext: () => context }) } as unknown as ArgumentsHost;

    await errorOf(filter.catch(new BadRequestException('bad'), host));

    expect(warn).toHaveBeenCalledWith('"hello" from unknown peer: VALIDATION_FAILED "bad"');
  });

  it('counts every failure by code', async () => {
    await errorOf(filter.catch(new BadRequestException('a'), tcpHost('echo')));
    await errorOf(filter.catch(new Error('b'), tcpHost('echo')));
    await errorOf(filter.catch(new BadRequestException('c'), tcpHost('echo')));

    expect(stats.snapshot().errors).toEqual({ total: 3, byCode: { VALIDATION_FAILED: 2, INTERNAL_ERROR: 1 } });
  });

  it('writes an IPv6 peer in brackets, as the connection log does', async () => {
    await errorOf(filter.catch(new BadRequestException('bad'), tcpHost('echo', '::1', 5050)));

    expect(warn).toHaveBeenCalledWith('"echo" from [::1]:5050: VALIDATION_FAILED "bad"');
  });

  describe("reporting failures to the processing hooks' observers (metrics, tracing)", () => {
    let failed: jest.Mock;

    beforeEach(() => {
      failed = jest.fn();
      filter = new RpcErrorEnvelopeFilter(stats, { failed } as unknown as DrainService);
    });

    it("reports the failed request's context and error code, which become its outcome label", async () => {
      const host = tcpHost('command');
      await errorOf(
        filter.catch(
          new RpcEnvelopeException({ code: 'UNKNOWN_COMMAND', message: 'x', details: { command: 'x', knownCommands: [] } }),
          host,
        ),
      );
      await errorOf(filter.catch(new Error('boom'), host));

      expect(failed.mock.calls).toEqual([
        [host.switchToRpc().getContext(), 'UNKNOWN_COMMAND'],
        [host.switchToRpc().getContext(), 'INTERNAL_ERROR'],
      ]);
    });

    it.each([
      { label: 'a NotFoundException (an unknown route)', exception: new NotFoundException('Cannot GET /nope') },
      { label: 'a ServiceUnavailable HttpException (/readyz during the drain)', exception: new HttpException({ status: 'error' }, 503) },
      { label: 'an Error', exception: new Error('boom') },
    ])("leaves $label of the HTTP side port to Nest's HTTP handling: no envelope, not counted", ({ exception }) => {
      const httpCatch = jest.spyOn(BaseExceptionFilter.prototype, 'catch').mockImplementation(() => undefined);
      const host = httpHost();

      const reply = filter.catch(exception, host);

      expect(reply).toBeUndefined();
      expect(httpCatch).toHaveBeenCalledWith(exception, host);
      expect(stats.snapshot().errors).toEqual({ total: 0, byCode: {} });
      expect(failed).not.toHaveBeenCalled();
      expect(warn).not.toHaveBeenCalled();
      expect(error).not.toHaveBeenCalled();
    });
  });
});
