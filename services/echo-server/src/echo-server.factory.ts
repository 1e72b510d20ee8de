import { Logger, type INestMicroservice } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Transport, type TcpOptions } from '@nestjs/microservices';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { EchoServerEnvironment } from './config/echo-server-environment';
import { ConnectionTracker } from './connections/connection-tracker.service';
import { EchoServerModule, type EchoServerModuleOptions } from './echo-server.module';
import { createLogger } from './logging/create-logger';

export interface RunningEchoServer {
  app: INestMicroservice;
  /** The address actually bound (the real port when ECHO_PORT=0). */
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Builds, configures and starts the echo server; used by `main.ts` and the tests alike. */
export async function startEchoServer(options: EchoServerModuleOptions = {}): Promise<RunningEchoServer> {
  const app = await NestFactory.createMicroservice(EchoServerModule.forRoot(options), {
    bufferLogs: true,
    abortOnError: false,
    inject: [ConfigService],
    useFactory: (config: ConfigService<EchoServerEnvironment, true>): TcpOptions => ({
      transport: Transport.TCP,
      options: {
        host: config.get('ECHO_HOST', { infer: true }),
        port: config.get('ECHO_PORT', { infer: true }),
        maxBufferSize: config.get('MAX_MESSAGE_LENGTH', { infer: true }),
        incompleteMessageTimeout: config.get('INCOMPLETE_MESSAGE_TIMEOUT_MS', { infer: true }),
      },
    }),
  });
  const config = app.get<ConfigService<EchoServerEnvironment, true>>(ConfigService);
  app.useLogger(
    createLogger({
      LOG_FORMAT: config.get('LOG_FORMAT', { infer: true }),
      LOG_LEVEL: config.get('LOG_LEVEL', { infer: true }),
      SERVER_NAME: config.get('SERVER_NAME', { infer: true }),
    }),
  );
  const tracker = app.get(ConnectionTracker);
  app.on('connection', (socket: Socket) => tracker.track(socket));
  await app.listen();

  const { address, port } = app.unwrap<Server>().address() as AddressInfo;
  new Logger('EchoServer').log(`listening on ${address}:${port} (TCP, Nest JSON framing)`);
  return { app, host: address, port, close: () => app.close() };
}
