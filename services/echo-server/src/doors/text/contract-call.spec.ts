import { ErrorCodes, EVENT_PATTERNS, REQUEST_PATTERNS, requestExampleOf } from '@echo-pair/common';
import { parseContractCall, type ContractCall } from './contract-call';

function errorOf(call: ContractCall | undefined): { code: string; message: string; details: unknown } {
  if (call === undefined || call.ok) {
    throw new Error(`expected an error, got ${JSON.stringify(call)}`);
  }
  return call.error;
}

describe('parseContractCall', () => {
  it.each(['hello', 'echo text', '/upper hi', '/help', '/caller x', '/emitter', '/ call echo {}', 'call echo {}', '', '/nick ann'])(
    'leaves %j to the usual syntax',
    (line) => {
      expect(parseContractCall(line)).toBeUndefined();
    },
  );

  it('reads /call <request pattern> <json> as that request with its payload, JSON quotes and spaces kept', () => {
    expect(parseContractCall('/call echo {"text":"hi  \\"there\\""}')).toEqual({
      ok: true,
      kind: 'request',
      pattern: 'echo',
      payload: { text: 'hi  "there"' },
    });
  });

  it('reads /emit <event pattern> <json> as that event', () => {
    expect(parseContractCall('/emit note {"text":"remember","author":"ann"}')).toEqual({
      ok: true,
      kind: 'event',
      pattern: 'note',
      payload: { text: 'remember', author: 'ann' },
    });
  });

  it('takes tabs and surrounding whitespace, and a payload that is no object (the handler refuses it)', () => {
    expect(parseContractCall('  /call\tcommand \t {"name":"upper","args":["a"]}  \r')).toEqual({
      ok: true,
      kind: 'request',
      pattern: 'command',
      payload: { name: 'upper', args: ['a'] },
    });
    expect(parseContractCall('/call echo [1, 2]')).toMatchObject({ ok: true, payload: [1, 2] });
    expect(parseContractCall('/call echo "hi"')).toMatchObject({ ok: true, payload: 'hi' });
  });

  it('sends {} when the payload is left out', () => {
    expect(parseContractCall('/call hello')).toEqual({ ok: true, kind: 'request', pattern: 'hello', payload: {} });
    expect(parseContractCall('/emit note   ')).toEqual({ ok: true, kind: 'event', pattern: 'note', payload: {} });
  });

  it('reads every pattern of the contract, each with its example', () => {
    for (const pattern of REQUEST_PATTERNS) {
      const payload = requestExampleOf(pattern).request;
      expect(parseContractCall(`/call ${pattern} ${JSON.stringify(payload)}`)).toEqual({ ok: true, kind: 'request', pattern, payload });
    }
    for (const pattern of EVENT_PATTERNS) {
      expect(parseContractCall(`/emit ${pattern} {}`)).toEqual({ ok: true, kind: 'event', pattern, payload: {} });
    }
  });

  it('refuses an unknown pattern with UNKNOWN_PATTERN, naming the known ones', () => {
    expect(errorOf(parseContractCall('/call nope {}'))).toEqual({
      code: ErrorCodes.UNKNOWN_PATTERN,
      message: `no request pattern "nope"; known: ${REQUEST_PATTERNS.join(', ')}`,
      details: { pattern: 'nope', knownPatterns: [...REQUEST_PATTERNS] },
    });
    expect(errorOf(parseContractCall('/emit nope'))).toEqual({
      code: ErrorCodes.UNKNOWN_PATTERN,
      message: `no event pattern "nope"; known: ${EVENT_PATTERNS.join(', ')}`,
      details: { pattern: 'nope', knownPatterns: [...EVENT_PATTERNS] },
    });
  });

  it('names no pattern of the server beyond the contract: a prototype key is no pattern', () => {
    expect(errorOf(parseContractCall('/call constructor {}')).code).toBe(ErrorCodes.UNKNOWN_PATTERN);
    expect(errorOf(parseContractCall('/call toString')).code).toBe(ErrorCodes.UNKNOWN_PATTERN);
  });

  it('shortens a long unknown name in the message, not in the details', () => {
    const name = 'x'.repeat(100);
    const error = errorOf(parseContractCall(`/call ${name} {}`));

    expect(error.message).toContain(`"${'x'.repeat(40)}..."`);
    expect(error.details).toMatchObject({ pattern: name });
  });

  it('refuses an event with /call and a request with /emit, saying which verb to use', () => {
    expect(errorOf(parseContractCall('/call note {"text":"x"}'))).toEqual({
      code: ErrorCodes.UNKNOWN_PATTERN,
      message: '"note" is an event pattern: send it with /emit note <json>',
      details: { pattern: 'note', knownPatterns: [...REQUEST_PATTERNS] },
    });
    expect(errorOf(parseContractCall('/emit echo {"text":"x"}'))).toEqual({
      code: ErrorCodes.UNKNOWN_PATTERN,
      message: '"echo" is a request pattern: send it with /call echo <json>',
      details: { pattern: 'echo', knownPatterns: [...EVENT_PATTERNS] },
    });
  });

  it('refuses a payload that is not JSON with VALIDATION_FAILED on (payload)', () => {
    const error = errorOf(parseContractCall('/call echo {text: hi}'));

    expect(error.code).toBe(ErrorCodes.VALIDATION_FAILED);
    expect(error.message).toMatch(/^invalid request: the payload must be JSON \(.+\)$/);
    expect(error.details).toEqual({
      violations: [{ field: '(payload)', constraints: { isJson: expect.stringContaining('JSON') as string } }],
    });
  });

  it('checks the pattern before the payload', () => {
    expect(errorOf(parseContractCall('/call nope {broken')).code).toBe(ErrorCodes.UNKNOWN_PATTERN);
  });

  it('refuses /call and /emit without a pattern with INVALID_COMMAND_ARGS and the usage', () => {
    expect(errorOf(parseContractCall('/call'))).toEqual({
      code: ErrorCodes.INVALID_COMMAND_ARGS,
      message: `call: expects a pattern, e.g. /call ${REQUEST_PATTERNS[0]} {...}`,
      details: { command: 'call', usage: 'call <pattern> [json]' },
    });
    expect(errorOf(parseContractCall(' /emit  ')).details).toEqual({ command: 'emit', usage: 'emit <pattern> [json]' });
  });
});
