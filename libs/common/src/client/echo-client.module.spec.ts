import { Module, type DynamicModule } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ECHO_CLIENT_OPTIONS } from './echo-client.constants';
import type { EchoClientOptions } from './echo-client-options';
import { EchoClient } from './echo-client';
import { EchoClientModule } from './echo-client.module';

const SERVER_ADDRESS = Symbol('SERVER_ADDRESS');

/** Stands in for a configuration module that `registerAsync` reads its options from. */
@Module({ providers: [{ provide: SERVER_ADDRESS, useValue: { host: '127.0.0.1', port: 4100 } }], exports: [SERVER_ADDRESS] })
class AddressModule {}

type Address = { host: string; port: number };

describe('EchoClientModule', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
    jest.restoreAllMocks();
  });

  async function start(module: DynamicModule): Promise<TestingModule> {
    moduleRef = await Test.createTestingModule({ imports: [module] }).compile();
    return moduleRef.init();
  }

  it.each([
    {
      how: 'register',
      module: () => EchoClientModule.register({ host: '127.0.0.1', port: 4100, timeoutMs: 750 }),
    },
    {
      how: 'registerAsync with a factory reading an imported provider',
      module: () =>
        EchoClientModule.registerAsync({
          imports: [AddressModule],
          inject: [SERVER_ADDRESS],
          useFactory: (address: Address): EchoClientOptions => ({ ...address, timeoutMs: 750 }),
        }),
    },
    {
      how: 'registerAsync with an async factory',
      module: () =>
        EchoClientModule.registerAsync({
          imports: [AddressModule],
          inject: [SERVER_ADDRESS],
          useFactory: async (address: Address): Promise<EchoClientOptions> => {
            await Promise.resolve();
            return { ...address, timeoutMs: 750 };
          },
        }),
    },
  ])('provides an EchoClient built from its options ($how)', async ({ module }) => {
    const create = jest.spyOn(EchoClient, 'create');

    const ref = await start(module());

    expect(ref.get(EchoClient)).toBeInstanceOf(EchoClient);
    expect(ref.get(ECHO_CLIENT_OPTIONS)).toEqual({ host: '127.0.0.1', port: 4100, timeoutMs: 750 });
    expect(create).toHaveBeenCalledTimes(1);
    expect(create).toHaveBeenCalledWith({ host: '127.0.0.1', port: 4100, timeoutMs: 750 });
    expect(create.mock.results[0].value).toBe(ref.get(EchoClient));
  });

  it('closes the client when the application shuts down, and not before', async () => {
    const ref = await start(EchoClientModule.register({ host: '127.0.0.1', port: 4100 }));
    const close = jest.spyOn(ref.get(EchoClient), 'close');

    expect(close).not.toHaveBeenCalled();
    await ref.close();
    moduleRef = undefined;

    expect(close).toHaveBeenCalledTimes(1);
  });
});
