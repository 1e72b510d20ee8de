import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import {
  ErrorCodes,
  WireLimits,
  type CommandResponse,
  type EchoResponse,
  type HelloResponse,
  type RpcErrorEnvelope,
} from '@echo-pair/common';
import { lastValueFrom, of } from 'rxjs';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { RpcEnvelopeException } from '../rpc-envelope.exception';
import { ResponseValidationInterceptor } from './response-validation.interceptor';

/** Handlers as Nest's decorators mark them: the interceptor finds their pattern in that metadata. */
class Handlers {
  @MessagePattern('echo')
  echo(_data: unknown): void {}

  @MessagePattern('command')
  command(_data: unknown): void {}

  @MessagePattern('hello')
  hello(_data: unknown): void {}

  @EventPattern('note')
  note(_data: unknown): void {}

  @MessagePattern('not-in-the-contract')
  other(_data: unknown): void {}
}

type HandlerName = 'echo' | 'command' | 'hello' | 'note' | 'other';

function contextOf(name: HandlerName): ExecutionContext {
  const handler = Handlers.prototype[name];
  return { getHandler: () => handler, getType: () => 'rpc' } as unknown as ExecutionContext;
}

const ECHO: EchoResponse = { text: 'héllo', receivedAt: '2026-12-07T17:00:00.000Z', bytes: 6, codeUnits: 5, codePoints: 5 };
const COMMAND: CommandResponse = { name: 'upper', args: ['hi'], output: 'HI', startedAt: '2026-12-07T17:00:00.000Z', durationMs: 0.012 };
const HELLO: HelloResponse = {
  welcome: 'Welcome!',
  server: 'echo-server',
  version: '0.1.0',
  instance: 'host-1',
  serverTime: '2026-12-07T17:00:00.000Z',
  patterns: { requests: ['hello', 'echo', 'command'], events: ['note'] },
  commands: [{ name: 'upper', usage: 'upper <text>', description: 'upper-cases' }],
  limits: { ...WireLimits, maxMessageLength: 8 * 1024 * 1024, incompleteMessageTimeoutMs: 10_000, sleepMaxMs: 10_000 },
};

/**
 * Every case runs on both paths of ECHO_FAST_PATH: the compiled validator and class-transformer
 * with class-validator's `validateSync`, which must agree.
 */
describe.each([
  { mode: 'fast path', fastPath: true },
  { mode: 'stock class-validator', fastPath: false },
])('ResponseValidationInterceptor ($mode)', ({ fastPath }) => {
  const interceptor = new ResponseValidationInterceptor(new ConfigService<EchoServerEnvironment, true>({ ECHO_FAST_PATH: fastPath }));

  function intercept(name: HandlerName, response: unknown): Promise<unknown> {
    const next: CallHandler = { handle: () => of(response) };
    return lastValueFrom(interceptor.intercept(contextOf(name), next));
  }

  async function rejectionOf(name: HandlerName, response: unknown): Promise<RpcErrorEnvelope> {
    const error = await intercept(name, response).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(RpcEnvelopeException);
    return (error as RpcEnvelopeException).envelope;
  }

  it.each([
    { name: 'echo', response: ECHO },
    { name: 'echo', response: { ...ECHO, text: '' } },
    { name: 'command', response: COMMAND },
    { name: 'command', response: { ...COMMAND, args: [], durationMs: 0 } },
    { name: 'hello', response: HELLO },
    { name: 'hello', response: { ...HELLO, commands: [] } },
  ] as const)('lets a valid $name response through, the same object', async ({ name, response }) => {
    const copy = structuredClone(response);

    await expect(intercept(name, response)).resolves.toBe(response);
    expect(response).toEqual(copy); // left as it was: what goes out is the handler's own object
  });

  it.each([
    { label: 'an event', name: 'note', response: { anything: Infinity } },
    { label: 'a pattern outside the contract', name: 'other', response: 42 },
  ] as const)('leaves $label alone', async ({ name, response }) => {
    await expect(intercept(name, response)).resolves.toBe(response);
  });

  it('fails a response with a field of the wrong type, naming it', async () => {
    const envelope = await rejectionOf('command', { ...COMMAND, output: 42 });

    expect(envelope).toEqual({
      code: ErrorCodes.INVALID_RESPONSE,
      message: 'invalid response to "command": output: output must be a string',
      details: { pattern: 'command', violations: [{ field: 'output', constraints: { isString: 'output must be a string' } }] },
    });
  });

  // JSON sends NaN and ±Infinity as null (the sum of [1e308, 1e308] went out as {"total": null}).
  it.each([Infinity, -Infinity, NaN, 1e308 + 1e308])(
    'fails a non-finite number (%p), which JSON would send as null',
    async (durationMs) => {
      const envelope = await rejectionOf('command', { ...COMMAND, durationMs });

      expect(envelope.code).toBe(ErrorCodes.INVALID_RESPONSE);
      expect(envelope.details).toEqual({
        pattern: 'command',
        violations: [{ field: 'durationMs', constraints: expect.objectContaining({ isNumber: expect.any(String) as unknown }) as unknown }],
      });
    },
  );

  it.each([
    { label: 'a missing field', name: 'echo', response: { ...ECHO, receivedAt: undefined }, fields: ['receivedAt'] },
    { label: 'a field the contract lacks', name: 'echo', response: { ...ECHO, secret: 'x' }, fields: ['secret'] },
    { label: 'a negative count', name: 'echo', response: { ...ECHO, bytes: -1 }, fields: ['bytes'] },
    { label: 'an infinite count', name: 'echo', response: { ...ECHO, codeUnits: Infinity }, fields: ['codeUnits'] },
    {
      label: 'two bad fields',
      name: 'command',
      response: { ...COMMAND, args: [1], startedAt: 'yesterday' },
      fields: ['args', 'startedAt'],
    },
    {
      label: 'a bad nested field',
      name: 'hello',
      response: { ...HELLO, limits: { ...HELLO.limits, sleepMaxMs: '10s' } },
      fields: ['limits.sleepMaxMs'],
    },
    {
      label: 'a bad item of a nested list',
      name: 'hello',
      response: { ...HELLO, commands: [{ name: 'upper', usage: 'upper' }] },
      fields: ['commands.0.description'],
    },
    { label: 'a missing nested object', name: 'hello', response: { ...HELLO, patterns: undefined }, fields: ['patterns'] },
    { label: 'null', name: 'echo', response: null, fields: ['(response)'] },
    { label: 'a string', name: 'command', response: 'HI', fields: ['(response)'] },
    { label: 'an array', name: 'hello', response: [HELLO], fields: ['(response)'] },
  ] as const)('fails $label, naming $fields', async ({ name, response, fields }) => {
    const envelope = await rejectionOf(name, response);

    expect(envelope.code).toBe(ErrorCodes.INVALID_RESPONSE);
    expect(envelope.details).toEqual({
      pattern: name,
      violations: fields.map((field) => ({ field, constraints: expect.any(Object) as unknown })),
    });
    for (const field of fields) {
      expect(envelope.message).toContain(`${field}: `);
    }
  });

  it('copies no value into the envelope', async () => {
    const envelope = await rejectionOf('echo', { ...ECHO, secret: 'do not echo me' });

    expect(JSON.stringify(envelope)).not.toContain('do not echo me');
  });

  it('refuses an own "__proto__" key as a field, without taking it as the prototype', async () => {
    const response = JSON.parse(
      `{"text":"a","receivedAt":"${ECHO.receivedAt}","bytes":1,"codeUnits":1,"codePoints":1,"__proto__":{"x":1}}`,
    ) as object;

    const envelope = await rejectionOf('echo', response);

    expect(envelope.details).toEqual({
      pattern: 'echo',
      violations: [{ field: '__proto__', constraints: { whitelistValidation: 'property __proto__ should not exist' } }],
    });
  });
});
