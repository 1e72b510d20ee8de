import { Controller, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventPattern, MessagePattern } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { EVENT_PATTERNS, REQUEST_PATTERNS } from '@echo-pair/common';
import { ServedPatterns } from './served-patterns.service';

@Controller()
class EveryPattern {
  @MessagePattern('hello')
  hello(_data: unknown): void {}

  @MessagePattern('echo')
  echo(_data: unknown): void {}

  @MessagePattern('command')
  command(_data: unknown): void {}

  @EventPattern('note')
  note(_data: unknown): void {}
}

@Controller()
class AllButEcho {
  @MessagePattern('hello')
  hello(_data: unknown): void {}

  @MessagePattern('command')
  command(_data: unknown): void {}

  @EventPattern('note')
  note(_data: unknown): void {}
}

@Controller()
class Extra {
  @MessagePattern('sum')
  sum(_data: unknown): void {}

  @EventPattern('audit')
  audit(_data: unknown): void {}
}

async function served(...controllers: Type<unknown>[]): Promise<ServedPatterns> {
  const moduleRef = await Test.createTestingModule({ imports: [DiscoveryModule], controllers, providers: [ServedPatterns] }).compile();
  await moduleRef.init();
  return moduleRef.get(ServedPatterns);
}

describe('ServedPatterns', () => {
  it('lists the patterns the controllers handle, in the contract order', async () => {
    const patterns = await served(EveryPattern);

    expect(patterns.requests).toEqual([...REQUEST_PATTERNS]);
    expect(patterns.events).toEqual([...EVENT_PATTERNS]);
  });

  it('fails start-up naming a pattern of the contract that has no handler', async () => {
    await expect(served(AllButEcho)).rejects.toThrow('the server does not match the wire contract: request pattern "echo" has no handler');
  });

  it('fails start-up naming handlers of patterns the contract lacks', async () => {
    await expect(served(EveryPattern, Extra)).rejects.toThrow(
      'a handler serves "sum", which the contract has no request pattern for; a handler serves event "audit", which the contract has no event pattern for',
    );
  });
});
