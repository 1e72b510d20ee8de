import { Patterns } from '@echo-pair/common';
import { TcpContext } from '@nestjs/microservices';
import { startEchoServer, type RunningEchoServer } from '../../echo-server.factory';
import { EchoServerTcp } from '../tcp/echo-server-tcp';

/** What the echo server's own `echo` handler returns on the Nest TCP door, with ECHO_FAST_PATH as given. */
async function echoHandlerResult(fastPath: 'true' | 'false'): Promise<{ result: unknown }> {
  let server: RunningEchoServer | undefined;
  try {
    server = await startEchoServer({
      env: {
        ECHO_HOST: '127.0.0.1',
        ECHO_PORT: '0',
        TEXT_PORT: '0',
        UDP_PORT: '0',
        METRICS_ENABLED: 'false',
        LOG_LEVEL: 'fatal',
        ECHO_FAST_PATH: fastPath,
      },
    });
    const handler = server.app.get(EchoServerTcp).getHandlerByPattern(Patterns.ECHO)!;
    const result = handler({ text: 'hi' }, new TcpContext([undefined as never, Patterns.ECHO, undefined])) as unknown;
    await result; // let a promise settle before the server closes
    return { result }; // wrapped: an async function would unwrap a promise
  } finally {
    await server?.close();
  }
}

describe('installSyncFirstDispatch in the echo server', () => {
  it('answers a request whose guards, pipe and handler are synchronous without a promise, by default', async () => {
    const { result } = await echoHandlerResult('true');
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toMatchObject({ text: 'hi' });
  }, 30_000);

  it("leaves Nest's own handlers, which always return a promise, with ECHO_FAST_PATH=false", async () => {
    expect((await echoHandlerResult('false')).result).toBeInstanceOf(Promise);
  }, 30_000);
});
