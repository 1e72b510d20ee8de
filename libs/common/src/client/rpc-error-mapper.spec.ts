import { toRpcClientError } from './rpc-error-mapper';

describe('toRpcClientError', () => {
  it('keeps the envelope of a contract error', () => {
    const error = toRpcClientError(
      { code: 'UNKNOWN_COMMAND', message: 'no', details: { command: 'x', knownCommands: ['upper'] } },
      'command',
    );
    expect(error.code).toBe('UNKNOWN_COMMAND');
    expect(error.envelope).toEqual({ code: 'UNKNOWN_COMMAND', message: 'no', details: { command: 'x', knownCommands: ['upper'] } });
  });
});
