import { EchoClient } from '@echo-pair/common';
import { startEchoServer, type RunningEchoServer } from '@echo-pair/echo-server';

/** An echo server on 127.0.0.1 with a free port, quiet unless something goes wrong. */
export function startTestServer(env: Record<string, string> = {}): Promise<RunningEchoServer> {
  return startEchoServer({
    env: { ECHO_HOST: '127.0.0.1', ECHO_PORT: '0', TEXT_PORT: '0', UDP_PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'error', ...env },
  });
}

/** Typed clients of one server, all closed by `closeAll()`. */
export class ClientPool {
  private readonly clients: EchoClient[] = [];

  constructor(private readonly server: RunningEchoServer) {}

  create(timeoutMs = 10_000): EchoClient {
    const client = EchoClient.create({ host: this.server.host, port: this.server.port, timeoutMs });
    this.clients.push(client);
    return client;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((client) => client.close()));
  }
}
