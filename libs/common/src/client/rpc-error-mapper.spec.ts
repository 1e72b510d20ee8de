import { runInNewContext } from 'node:vm';
import { RpcClientError } from './rpc-client.error';
import { toRpcClientError } from './rpc-error-mapper';

/** What ServerTCP replies when no handler matches the pattern (its NO_MESSAGE_HANDLER). */
const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';

/** A socket error as Node raises it: an Error with a system `code`. */
function systemError(code: string, message = `connect ${code} 127.0.0.1:3000`): Error {
  return Object.assign(new Error(message), { code, syscall: 'connect' });
}

/** The same, created in another realm (as Jest's VM contexts do): not `instanceof Error` here. */
function foreignSystemError(code: string | undefined, message: string): unknown {
  return runInNewContext('Object.assign(new Error(message), code === undefined ? {} : { code })', { code, message });
}

describe('toRpcClientError', () => {
  it('keeps the envelope of a contract error', () => {
    const error = toRpcClientError(
      { code: 'UNKNOWN_COMMAND', message: 'no', details: { command: 'x', knownCommands: ['upper'] } },
      'command',
    );
    expect(error).toBeInstanceOf(RpcClientError);
    expect(error).toMatchObject({ code: 'UNKNOWN_COMMAND', message: 'no', pattern: 'command' });
    expect(error.envelope).toEqual({ code: 'UNKNOWN_COMMAND', message: 'no', details: { command: 'x', knownCommands: ['upper'] } });
  });

  it("maps Nest's reply to an unknown pattern to UNKNOWN_PATTERN, naming the pattern", () => {
    const error = toRpcClientError(NO_MESSAGE_HANDLER, 'launch');

    expect(error).toMatchObject({ code: 'UNKNOWN_PATTERN', pattern: 'launch', envelope: undefined, cause: NO_MESSAGE_HANDLER });
    expect(error.message).toBe(`${NO_MESSAGE_HANDLER} (pattern "launch")`);
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE'])(
    'maps a socket error %s to CONNECTION_FAILED',
    (code) => {
      const cause = systemError(code);
      const error = toRpcClientError(cause, 'echo');

      expect(error).toMatchObject({ code: 'CONNECTION_FAILED', message: `connect ${code} 127.0.0.1:3000`, pattern: 'echo', cause });
    },
  );

  it('maps an ECONNREFUSED error from another realm to CONNECTION_FAILED', () => {
    const cause = foreignSystemError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1');
    expect(cause instanceof Error).toBe(false); // what this case is about

    expect(toRpcClientError(cause, 'hello')).toMatchObject({
      code: 'CONNECTION_FAILED',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
      cause,
    });
  });

  it.each([
    { realm: 'this realm', cause: new Error('Connection closed') },
    { realm: 'another realm', cause: foreignSystemError(undefined, 'Connection closed') },
  ])("maps the transport's 'Connection closed' from $realm to CONNECTION_LOST, retryable", ({ cause }) => {
    expect(toRpcClientError(cause, 'echo')).toMatchObject({
      code: 'CONNECTION_LOST',
      message: 'connection lost while the call was in flight',
      pattern: 'echo',
      retryable: true,
      cause,
    });
  });

  it.each([
    {
      label: "Nest's internal error reply",
      cause: { status: 'error', message: 'Internal server error' },
      message: 'Internal server error',
    },
    {
      label: 'an envelope with a code the contract lacks',
      cause: { code: 'TEAPOT', message: 'short and stout', details: {} },
      message: 'short and stout',
    },
    { label: 'an envelope without details', cause: { code: 'INTERNAL_ERROR', message: 'oops' }, message: 'oops' },
    { label: 'another string', cause: 'something broke', message: 'something broke' },
    { label: 'an error with another system code', cause: systemError('EACCES', 'permission denied'), message: 'permission denied' },
    { label: 'a plain error', cause: new Error('boom'), message: 'boom' },
    { label: 'a number', cause: 42, message: '42' },
    { label: 'null', cause: null, message: 'null' },
  ])('maps $label to REMOTE_ERROR, keeping the message and the cause', ({ cause, message }) => {
    const error = toRpcClientError(cause, 'command');

    expect(error).toMatchObject({ code: 'REMOTE_ERROR', message, pattern: 'command', envelope: undefined });
    expect(error.cause).toBe(cause);
  });

  it('passes an RpcClientError through unchanged', () => {
    const original = new RpcClientError({ code: 'TIMEOUT', message: 'no reply to "echo" within 5 ms', pattern: 'echo' });

    expect(toRpcClientError(original, 'another-pattern')).toBe(original);
    expect(original).toMatchObject({ code: 'TIMEOUT', pattern: 'echo' });
  });
});
