import type { EchoClient } from './echo-client';

/**
 * What code that calls the server uses of `EchoClient`: the calls, the connection and its state.
 * Test fakes and stubs implement it, so that one that drifts from the client does not build.
 */
export type EchoClientApi = Pick<
  EchoClient,
  'hello' | 'echo' | 'command' | 'note' | 'send' | 'emit' | 'connect' | 'close' | 'connectionInfo' | 'maxDatagramBytes'
>;
