import { ErrorCodes, Transports, type ErrorCode } from '@echo-pair/common';
import { GatewayContext } from '../../core/gateway-context';
import { EVENT_HANDLED, type CallOutcome } from '../gateway-server';
import { parseContractCall, type ContractCall } from './contract-call';
import { answerContractCall, contractReplyLine, EMITTED_LINE, type ContractDoor } from './contract-reply';

const PEER = '127.0.0.1:40000';

function read(line: string): ContractCall {
  const call = parseContractCall(line);
  if (call === undefined) {
    throw new Error(`not a /call line: ${line}`);
  }
  return call;
}

function door(outcome: CallOutcome): ContractDoor & { call: jest.Mock; emit: jest.Mock; counted: ErrorCode[] } {
  const counted: ErrorCode[] = [];
  return {
    transport: Transports.UDP,
    call: jest.fn(() => Promise.resolve(outcome)),
    emit: jest.fn(() => Promise.resolve(outcome)),
    countError: (code) => counted.push(code),
    counted,
  };
}

const VALIDATION: CallOutcome = {
  ok: false,
  error: {
    code: ErrorCodes.VALIDATION_FAILED,
    message: 'invalid request: text must be a string',
    details: { violations: [{ field: 'text', constraints: { isString: 'text must be a string' } }] },
  },
};

describe('answerContractCall', () => {
  it('runs a /call through the door with the payload and a context naming pattern, transport and peer; replies the response as JSON', async () => {
    const response = { text: 'hi\nthere', bytes: 8 };
    const target = door({ ok: true, response });

    const line = await answerContractCall(read('/call echo {"text":"hi\\nthere"}'), target, PEER);

    expect(line).toBe('{"text":"hi\\nthere","bytes":8}');
    expect(line).not.toContain('\n');
    expect(target.call).toHaveBeenCalledWith('echo', { text: 'hi\nthere' }, expect.any(GatewayContext));
    const [, , context] = target.call.mock.calls[0] as [string, unknown, GatewayContext];
    expect([context.getPattern(), context.getTransport(), context.getPeer()]).toEqual(['echo', 'udp', PEER]);
    expect(target.emit).not.toHaveBeenCalled();
  });

  it('runs an /emit through the door and replies OK', async () => {
    const target = door(EVENT_HANDLED);

    expect(await answerContractCall(read('/emit note {"text":"x"}'), target, PEER)).toBe(EMITTED_LINE);
    expect(target.emit).toHaveBeenCalledWith('note', { text: 'x' }, expect.any(GatewayContext));
    expect(target.call).not.toHaveBeenCalled();
  });

  it("replies a handler's error as its ERR line, left to the exception filter to count", async () => {
    const target = door(VALIDATION);

    expect(await answerContractCall(read('/call echo {}'), target, PEER)).toBe(
      'ERR VALIDATION_FAILED invalid request: text must be a string',
    );
    expect(await answerContractCall(read('/emit note {}'), target, PEER)).toBe(
      'ERR VALIDATION_FAILED invalid request: text must be a string',
    );
    expect(target.counted).toEqual([]);
  });

  it('replies a line the door refused as its ERR line, counts it, and runs nothing', async () => {
    const target = door({ ok: true, response: {} });

    expect(await answerContractCall(read('/call nope'), target, PEER)).toMatch(/^ERR UNKNOWN_PATTERN no request pattern "nope"; known: /);
    expect(await answerContractCall(read('/call echo {'), target, PEER)).toMatch(
      /^ERR VALIDATION_FAILED invalid request: the payload must be JSON/,
    );
    expect(target.counted).toEqual([ErrorCodes.UNKNOWN_PATTERN, ErrorCodes.VALIDATION_FAILED]);
    expect(target.call).not.toHaveBeenCalled();
    expect(target.emit).not.toHaveBeenCalled();
  });

  it('answers there and then, not with a promise, when the door returns its outcome synchronously', () => {
    const target = door({ ok: true, response: { text: 'now' } });
    target.call.mockReturnValue({ ok: true, response: { text: 'now' } });
    target.emit.mockReturnValue(EVENT_HANDLED);

    expect(answerContractCall(read('/call echo {"text":"now"}'), target, PEER)).toBe('{"text":"now"}');
    expect(answerContractCall(read('/emit note {"text":"x"}'), target, PEER)).toBe(EMITTED_LINE);
    expect(answerContractCall(read('/call nope'), target, PEER)).toMatch(/^ERR UNKNOWN_PATTERN /);
  });
});

describe('contractReplyLine', () => {
  it('is the response as JSON, null for no response, OK for an event, ERR for an error', () => {
    expect(contractReplyLine('request', { ok: true, response: { a: [1, 'é'] } })).toBe('{"a":[1,"é"]}');
    expect(contractReplyLine('request', { ok: true, response: undefined })).toBe('null');
    expect(contractReplyLine('event', EVENT_HANDLED)).toBe('OK');
    expect(contractReplyLine('event', VALIDATION)).toBe('ERR VALIDATION_FAILED invalid request: text must be a string');
  });
});
