import { Controller, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { EVENT_PATTERNS, REQUEST_PATTERNS } from '@echo-pair/common';
import { ServedPatterns } from './served-patterns.service';

/** A controller with one handler per pattern named, decorated as Nest's own decorators do. */
function controllerFor(requests: readonly string[], events: readonly string[]): Type<unknown> {
  @Controller()
  class Handlers {}
  type Decorate = (target: object, key: string, descriptor: PropertyDescriptor) => void;
  const decorators: Array<[readonly string[], (pattern: string) => Decorate]> = [
    [requests, (pattern) => MessagePattern(pattern)],
    [events, (pattern) => EventPattern(pattern) as Decorate],
  ];
  for (const [patterns, decorate] of decorators) {
    for (const pattern of patterns) {
      const handler = (_data: unknown): void => undefined;
      Object.defineProperty(Handlers.prototype, pattern, { value: handler, configurable: true, writable: true });
      decorate(pattern)(Handlers.prototype, pattern, Object.getOwnPropertyDescriptor(Handlers.prototype, pattern)!);
    }
  }
  return Handlers;
}

async function served(...controllers: Type<unknown>[]): Promise<ServedPatterns> {
  const moduleRef = await Test.createTestingModule({ imports: [DiscoveryModule], controllers, providers: [ServedPatterns] }).compile();
  await moduleRef.init();
  return moduleRef.get(ServedPatterns);
}

describe('ServedPatterns', () => {
  it('lists the patterns the controllers handle, in the contract order', async () => {
    const patterns = await served(controllerFor([...REQUEST_PATTERNS].reverse(), EVENT_PATTERNS));

    expect(patterns.requests).toEqual([...REQUEST_PATTERNS]);
    expect(patterns.events).toEqual([...EVENT_PATTERNS]);
  });

  it('fails start-up naming a pattern of the contract that has no handler', async () => {
    const [missing, ...rest] = REQUEST_PATTERNS;

    await expect(served(controllerFor(rest, EVENT_PATTERNS))).rejects.toThrow(
      `the server does not match the wire contract: request pattern "${missing}" has no handler`,
    );
  });

  it('fails start-up naming handlers of patterns the contract lacks', async () => {
    await expect(served(controllerFor([...REQUEST_PATTERNS, 'not-in-contract'], [...EVENT_PATTERNS, 'audit']))).rejects.toThrow(
      'a handler serves "not-in-contract", which the contract has no request pattern for; a handler serves event "audit", which the contract has no event pattern for',
    );
  });
});
