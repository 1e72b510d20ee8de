import {
  buildMixedScriptText,
  EchoClient,
  RpcClientError,
  type EchoResponse,
  type HelloResponse,
  type RpcErrorEnvelope,
} from '@echo-pair/common';
import { EchoServerEnvironment, EchoServerModule, type RunningEchoServer } from '@echo-pair/echo-server';
import { REQUEST_PATTERNS, validateEnvironment } from '@echo-pair/common';
import type { INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, JsonSocket, Transport, type ClientProxy, type TcpOptions } from '@nestjs/microservices';
import type { AddressInfo, Server } from 'node:net';
import { lastValueFrom, timeout } from 'rxjs';
import { rejection, statsWhen } from './support/client-calls';
import { startTestServer } from './support/test-server';

const CALL_MS = 10_000;
const MIB_TEXT = buildMixedScriptText(1024 * 1024).slice(0, 400_000);

/** The framed socket speaks the stock wire format: each side talks to stock NestJS TCP on the other. */
describe('wire interop with stock NestJS TCP', () => {
  describe("stock ClientTCP (Nest's JsonSocket) against this project's server", () => {
    let server: RunningEchoServer;
    let stock: ClientProxy;

    beforeAll(async () => {
      server = await startTestServer();
      stock = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: server.host, port: server.port } });
      await stock.connect();
    });

    afterAll(async () => {
      await stock?.close();
      await server?.close();
    });

    function send<T>(pattern: string, data: unknown): Promise<T> {
      return lastValueFrom(stock.send<T>(pattern, data).pipe(timeout(CALL_MS)));
    }

    it('uses the default JsonSocket on the client side', () => {
      expect((stock as unknown as { socketClass: unknown }).socketClass).toBe(JsonSocket);
    });

    it('gets replies to hello, echo and command', async () => {
      await expect(send<HelloResponse>('hello', { client: 'stock' })).resolves.toMatchObject({
        patterns: { requests: [...REQUEST_PATTERNS] },
      });
      await expect(send<{ output: string }>('command', { name: 'upper', args: ['ünïcödé'] })).resolves.toMatchObject({ output: 'ÜNÏCÖDÉ' });
      const reply = await send<EchoResponse>('echo', { text: 'héllo 😀 你好' });
      expect(reply).toMatchObject({ text: 'héllo 😀 你好', codeUnits: 11, bytes: Buffer.byteLength('héllo 😀 你好') });
    });

    it('echoes a large mixed-script text byte-identical', async () => {
      const reply = await send<EchoResponse>('echo', { text: MIB_TEXT });

      expect(reply.text === MIB_TEXT).toBe(true);
      expect(reply.codeUnits).toBe(MIB_TEXT.length);
    });

    it('pipelines many requests on its one connection', async () => {
      const texts = Array.from({ length: 200 }, (_, index) => `#${index} ✓`);

      const replies = await Promise.all(texts.map((text) => send<EchoResponse>('echo', { text })));

      expect(replies.map((reply) => reply.text)).toEqual(texts);
    });

    it('gets the error envelope for an invalid request, and Nest’s error for an unknown pattern', async () => {
      await expect(send('echo', { text: 42 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' } satisfies Partial<RpcErrorEnvelope>);
      await expect(send('no-such-pattern', {})).rejects.toBe('There is no matching message handler defined in the remote service.');
    });

    it('delivers its events', async () => {
      const ours = EchoClient.create({ host: server.host, port: server.port, timeoutMs: CALL_MS });
      try {
        const before = (await statsWhen(ours, () => true)).events.note;
        await lastValueFrom(stock.emit('note', { text: 'from stock' }), { defaultValue: undefined });

        const after = await statsWhen(ours, (stats) => stats.events.note > before);
        expect(after.events.note).toBe(before + 1);
        expect(after.rejections.total).toBe(0);
      } finally {
        await ours.close();
      }
    });
  });

  describe("this project's EchoClient against a stock NestJS TCP server (default JsonSocket)", () => {
    let app: INestMicroservice;
    let client: EchoClient;

    beforeAll(async () => {
      const environment = validateEnvironment(EchoServerEnvironment, { LOG_LEVEL: 'error' });
      app = await NestFactory.createMicroservice<TcpOptions>(EchoServerModule.forRoot(environment), {
        logger: ['error'],
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port: 0 },
      });
      await app.listen();
      const { port } = app.unwrap<Server>().address() as AddressInfo;
      client = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: CALL_MS });
    });

    afterAll(async () => {
      await client?.close();
      await app?.close();
    });

    it('gets replies to hello, echo and command', async () => {
      await expect(client.hello({ client: 'ours' })).resolves.toMatchObject({ patterns: { events: ['note'] } });
      await expect(client.command({ name: 'reverse', args: ['abc😀'] })).resolves.toMatchObject({ output: '😀cba' });
      await expect(client.echo({ text: 'naïve 👍🏽' })).resolves.toMatchObject({ text: 'naïve 👍🏽', codePoints: 8 });
    });

    it('echoes a large mixed-script text byte-identical', async () => {
      const reply = await client.echo({ text: MIB_TEXT });

      expect(reply.text === MIB_TEXT).toBe(true);
    });

    it('pipelines many requests, written in batches, that the stock socket cuts apart', async () => {
      const texts = Array.from({ length: 300 }, (_, index) => `${index}: ${'€'.repeat(index % 7)}`);

      const replies = await Promise.all(texts.map((text) => client.echo({ text })));

      expect(replies.map((reply) => reply.text)).toEqual(texts);
    });

    it('maps the stock server’s error replies', async () => {
      const error = await rejection(client.echo({ text: 7 as unknown as string }));
      expect(error).toBeInstanceOf(RpcClientError);
      expect(error.code).toBe('VALIDATION_FAILED');
    });

    it('sends events the stock server handles', async () => {
      await client.note({ text: 'to stock' });
      const stats = await statsWhen(client, (s) => s.events.note >= 1);

      expect(stats.events.note).toBe(1);
    });
  });
});
