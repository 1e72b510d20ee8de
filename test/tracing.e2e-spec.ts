import { EchoClient, startTracing, TraceAttributes, validateEnvironment, type HelloResponse, type Tracing } from '@echo-pair/common';
import { EchoServerEnvironment, EchoServerModule, type RunningEchoServer } from '@echo-pair/echo-server';
import { Logger, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, Transport, type ClientProxy, type TcpOptions } from '@nestjs/microservices';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { AddressInfo, Server } from 'node:net';
import { lastValueFrom, timeout } from 'rxjs';
import { rejection } from './support/client-calls';
import { expectPassingDemo } from './support/demo-transcript';
import { DatagramPeer, LinePeer } from './support/line-peer';
import { OtlpReceiver, OtlpSpanKind, type ReceivedSpan } from './support/otlp-receiver';
import { compiled, runNode, startNode } from './support/run-process';
import { startTestServer } from './support/test-server';

const CALL_MS = 10_000;

/** One JSON log record of the server, as `LOG_FORMAT=json` writes it. */
interface LogRecord {
  level: string;
  message: string;
  context?: string;
  traceId?: string;
  spanId?: string;
}

/**
 * Issue 13 §3: W3C trace context from `EchoClient` to the server in the packets' `metadata`; a
 * client span per call, the server span of its handling as its child, the trace id in the log
 * lines written meanwhile; stock peers without metadata unaffected. First in one process with an
 * in-memory span exporter, then between the compiled worker and server exporting OTLP to a
 * receiver of the test's own.
 */
describe('trace context across the pair', () => {
  describe('in one process, with an in-memory span exporter', () => {
    const exporter = new InMemorySpanExporter();
    let tracing: Tracing;
    let server: RunningEchoServer;
    let client: EchoClient;
    let written: string[];

    /** The spans ended so far, and the server's JSON log records among what was written. */
    const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
    const logRecords = (): LogRecord[] =>
      written
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogRecord);

    /** The one span of `kind` named `name`, failing with every span ended when there is not exactly one. */
    function only(kind: SpanKind, name: string, among = spans()): ReadableSpan {
      const found = among.filter((span) => span.kind === kind && span.name === name);
      if (found.length !== 1) {
        throw new Error(
          `expected one ${SpanKind[kind]} span "${name}", found ${found.length} among: ${among.map((span) => `${SpanKind[span.kind]} ${span.name}`).join(', ')}`,
        );
      }
      return found[0];
    }

    /** Waits until the spans of a handling have ended (the server's ends once its reply is produced, maybe after the client's). */
    async function spansWhen(holds: (ended: ReadableSpan[]) => boolean): Promise<ReadableSpan[]> {
      const deadline = Date.now() + 5_000;
      while (!holds(spans()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return spans();
    }

    function expectChildOf(child: ReadableSpan, parent: ReadableSpan): void {
      expect(child.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
      expect(child.parentSpanContext?.isRemote).toBe(true);
    }

    beforeAll(async () => {
      written = [];
      // The server's JSON log lines, kept (and kept off the test's output).
      for (const stream of [process.stdout, process.stderr]) {
        jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
          written.push(String(chunk));
          return true;
        });
      }
      tracing = startTracing({ serviceName: 'tracing-e2e', exporter, simple: true, env: {} });
      server = await startTestServer({ LOG_FORMAT: 'json', LOG_LEVEL: 'log' });
      client = EchoClient.create({ host: server.host, port: server.port, timeoutMs: CALL_MS });
      await client.connect();
    });

    afterAll(async () => {
      await client?.close();
      await server?.close();
      await tracing?.shutdown();
      jest.restoreAllMocks();
    });

    beforeEach(() => {
      exporter.reset();
      written.length = 0;
    });

    it('makes a call and its handling one trace: the server span is the child of the client span, with pattern, transport and outcome', async () => {
      await client.echo({ text: 'traced' });

      const ended = await spansWhen((all) => all.length >= 2);
      const callSpan = only(SpanKind.CLIENT, 'echo', ended);
      const handling = only(SpanKind.SERVER, 'echo', ended);
      expect(ended).toHaveLength(2);
      expect(callSpan.parentSpanContext).toBeUndefined();
      expectChildOf(handling, callSpan);
      expect(callSpan.attributes).toEqual({
        [TraceAttributes.RPC_SYSTEM]: 'nestjs',
        [TraceAttributes.PATTERN]: 'echo',
        [TraceAttributes.TRANSPORT]: 'tcp',
        [TraceAttributes.OUTCOME]: 'ok',
      });
      expect(handling.attributes).toEqual({
        [TraceAttributes.RPC_SYSTEM]: 'nestjs',
        [TraceAttributes.PATTERN]: 'echo',
        [TraceAttributes.TRANSPORT]: 'tcp',
        [TraceAttributes.OUTCOME]: 'ok',
      });
      expect(callSpan.resource.attributes['service.name']).toBe('tracing-e2e');
    });

    it('gives both spans of a failed call its error code, and its trace id to the log line the server wrote handling it', async () => {
      const error = await rejection(client.command({ name: 'no-such-command' }));
      expect(error.code).toBe('UNKNOWN_COMMAND');

      const ended = await spansWhen((all) => all.length >= 2);
      const callSpan = only(SpanKind.CLIENT, 'command', ended);
      const handling = only(SpanKind.SERVER, 'command', ended);
      expectChildOf(handling, callSpan);
      for (const span of [callSpan, handling]) {
        expect(span.attributes).toMatchObject({
          [TraceAttributes.OUTCOME]: 'UNKNOWN_COMMAND',
          [TraceAttributes.ERROR_CODE]: 'UNKNOWN_COMMAND',
        });
        expect(span.status).toEqual({ code: 2, message: 'UNKNOWN_COMMAND' }); // SpanStatusCode.ERROR
      }
      const warning = logRecords().find((record) => record.context === 'RpcErrors');
      expect(warning).toMatchObject({
        level: 'warn',
        message: expect.stringContaining('UNKNOWN_COMMAND') as unknown,
        traceId: callSpan.spanContext().traceId,
        spanId: handling.spanContext().spanId,
      });
    });

    it("gives the server span a failure's error code with the metrics off too", async () => {
      const quiet = await startTestServer({ LOG_FORMAT: 'json', LOG_LEVEL: 'log', METRICS_ENABLED: 'false' });
      const quietClient = EchoClient.create({ host: quiet.host, port: quiet.port, timeoutMs: CALL_MS });
      try {
        expect((await rejection(quietClient.command({ name: 'no-such-command' }))).code).toBe('UNKNOWN_COMMAND');
        await quietClient.echo({ text: 'fine' });

        const ended = await spansWhen((all) => all.filter((span) => span.kind === SpanKind.SERVER).length >= 2);
        expect(only(SpanKind.SERVER, 'command', ended).attributes).toMatchObject({
          [TraceAttributes.OUTCOME]: 'UNKNOWN_COMMAND',
          [TraceAttributes.ERROR_CODE]: 'UNKNOWN_COMMAND',
        });
        expect(only(SpanKind.SERVER, 'echo', ended).attributes).toMatchObject({ [TraceAttributes.OUTCOME]: 'ok' });
      } finally {
        await quietClient.close();
        await quiet.close();
      }
    });

    it('puts the trace id in every JSON log line written while handling a message, and in no other', async () => {
      await client.hello({ client: 'traced-client' });
      await client.note({ text: 'a traced note', author: 'tester' });

      const ended = await spansWhen((all) => all.length >= 4);
      const helloTrace = only(SpanKind.SERVER, 'hello', ended).spanContext().traceId;
      const noteHandling = only(SpanKind.CONSUMER, 'note', ended);
      expectChildOf(noteHandling, only(SpanKind.PRODUCER, 'note', ended));
      const records = logRecords();
      expect(records.find((record) => record.message.includes('traced-client'))).toMatchObject({ traceId: helloTrace });
      expect(records.find((record) => record.message.includes('a traced note'))).toMatchObject({
        traceId: noteHandling.spanContext().traceId,
        spanId: noteHandling.spanContext().spanId,
      });
      // Written outside any handling: no trace id.
      written.length = 0;
      new Logger('Outside').log('not handling anything');
      expect(logRecords()).toEqual([expect.not.objectContaining({ traceId: expect.anything() as unknown })]);
    });

    it('continues the trace of the span active where the call is made', async () => {
      const outer = trace.getTracer('test').startSpan('outer');
      await context.with(trace.setSpan(context.active(), outer), () => client.echo({ text: 'inside' }));
      outer.end();

      const ended = await spansWhen((all) => all.length >= 3);
      const callSpan = only(SpanKind.CLIENT, 'echo', ended);
      expect(callSpan.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
      expectChildOf(only(SpanKind.SERVER, 'echo', ended), callSpan);
    });

    it('keeps the context of each call apart when many are in flight at once', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, index) => client.echo({ text: `concurrent ${index}` })));

      const ended = await spansWhen((all) => all.length >= 40);
      const callSpans = ended.filter((span) => span.kind === SpanKind.CLIENT);
      const handlings = ended.filter((span) => span.kind === SpanKind.SERVER);
      expect(callSpans).toHaveLength(20);
      expect(handlings).toHaveLength(20);
      expect(new Set(callSpans.map((span) => span.spanContext().traceId)).size).toBe(20);
      for (const handling of handlings) {
        const parent = callSpans.find((span) => span.spanContext().spanId === handling.parentSpanContext?.spanId);
        expect(parent?.spanContext().traceId).toBe(handling.spanContext().traceId);
      }
    });

    it('serves a stock ClientTCP, which sends no metadata, as before: its handling is a trace of its own', async () => {
      const stock: ClientProxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: server.host, port: server.port } });
      try {
        const reply = await lastValueFrom(stock.send<HelloResponse>('hello', { client: 'stock' }).pipe(timeout(CALL_MS)));
        expect(reply.welcome).toEqual(expect.any(String));
      } finally {
        await stock.close();
      }

      const handling = only(SpanKind.SERVER, 'hello', await spansWhen((all) => all.length >= 1));
      expect(handling.parentSpanContext).toBeUndefined();
      expect(handling.attributes).toMatchObject({ [TraceAttributes.TRANSPORT]: 'tcp', [TraceAttributes.OUTCOME]: 'ok' });
    });

    it('traces the text gateway and UDP datagrams without metadata as traces of their own, with their transport', async () => {
      const line = await LinePeer.connect(server.textPort!);
      const datagrams = await DatagramPeer.open(server.udpPort!);
      try {
        expect(await line.ask('/upper hi')).toBe('HI');
        const reply = JSON.parse(
          (await datagrams.request(JSON.stringify({ pattern: 'echo', data: { text: 'u' }, id: 'u1' }))).toString(),
        ) as {
          response: { text: string };
        };
        expect(reply.response.text).toBe('u');
      } finally {
        line.destroy();
        await datagrams.close();
      }

      const ended = await spansWhen((all) => all.length >= 2);
      const byTransport: Record<string, ReadableSpan> = Object.fromEntries(
        ended.map((span): [string, ReadableSpan] => [String(span.attributes[TraceAttributes.TRANSPORT]), span]),
      );
      expect(Object.keys(byTransport).sort()).toEqual(['text', 'udp']);
      for (const span of ended) {
        expect(span.kind).toBe(SpanKind.SERVER);
        expect(span.parentSpanContext).toBeUndefined();
      }
      expect(byTransport.text.name).toBe('command');
      expect(byTransport.udp.name).toBe('echo');
    });

    it('names a pattern outside the contract "other", never with the text a peer sent', async () => {
      const stock: ClientProxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: server.host, port: server.port } });
      try {
        // A JSON-quoted name reaches the echo handler (Nest parses the pattern as JSON), yet is not the contract's name.
        await lastValueFrom(stock.send('"echo"', { text: 'quoted' }).pipe(timeout(CALL_MS)));
      } finally {
        await stock.close();
      }

      const handling = (await spansWhen((all) => all.length >= 1))[0];
      expect(handling.name).toBe('other');
      expect(handling.attributes[TraceAttributes.PATTERN]).toBe('other');
    });

    it('sends the trace context to a stock NestJS TCP server, which handles the calls as usual', async () => {
      const environment = validateEnvironment(EchoServerEnvironment, { LOG_LEVEL: 'error', METRICS_ENABLED: 'false' });
      const stockServer: INestMicroservice = await NestFactory.createMicroservice<TcpOptions>(EchoServerModule.forRoot(environment), {
        logger: ['error'],
        transport: Transport.TCP,
        options: { host: '127.0.0.1', port: 0 },
      });
      await stockServer.listen();
      const { port } = stockServer.unwrap<Server>().address() as AddressInfo;
      const stockClient = EchoClient.create({ host: '127.0.0.1', port, timeoutMs: CALL_MS });
      try {
        await expect(stockClient.echo({ text: 'to stock' })).resolves.toMatchObject({ text: 'to stock' });
        await expect(rejection(stockClient.echo({ text: 7 as unknown as string }))).resolves.toMatchObject({ code: 'VALIDATION_FAILED' });
      } finally {
        await stockClient.close();
        await stockServer.close();
      }
      expect(spans().filter((span) => span.kind === SpanKind.CLIENT)).toHaveLength(2);
    });
  });

  describe('between the compiled worker and server, exporting OTLP to a receiver', () => {
    let receiver: OtlpReceiver;

    beforeAll(async () => {
      receiver = await OtlpReceiver.start();
    });

    afterAll(async () => {
      await receiver?.close();
    });

    it('exports the worker call spans and the server spans of their handling as one trace each, the server span the child', async () => {
      const otlp = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_BSP_SCHEDULE_DELAY: '50' };
      const server = startNode([compiled('services/echo-server/dist/main.js')], {
        env: {
          ...otlp,
          ECHO_HOST: '127.0.0.1',
          ECHO_PORT: '0',
          TEXT_PORT: '0',
          UDP_PORT: '0',
          METRICS_PORT: '0',
          LOG_FORMAT: 'json',
          LOG_LEVEL: 'log',
        },
        timeoutMs: 60_000,
      });
      const listening = await server.waitForOutput(/listening on 127\.0\.0\.1:\d+/, 20_000);
      const port = /listening on 127\.0\.0\.1:(\d+)/.exec(listening)![1];

      const worker = await runNode([compiled('services/client-worker/dist/main.js'), 'demo'], {
        env: { ...otlp, ECHO_SERVER_HOST: '127.0.0.1', ECHO_SERVER_PORT: port, WORKER_NAME: 'traced-worker', METRICS_ENABLED: 'false' },
        timeoutMs: 60_000,
      });
      expectPassingDemo(worker);

      const isCall = (span: ReceivedSpan): boolean =>
        span.service === 'client-worker' && (span.kind === OtlpSpanKind.CLIENT || span.kind === OtlpSpanKind.PRODUCER);
      const handlingOf = (call: ReceivedSpan, spans: readonly ReceivedSpan[]): ReceivedSpan | undefined =>
        spans.find((span) => span.service === 'echo-server' && span.parentSpanId === call.spanId);
      // Every call of the demo reaches a handler (no unknown pattern): each has its server span.
      const spans = await receiver.until((all) => {
        const calls = all.filter(isCall);
        return calls.length > 0 && calls.every((call) => handlingOf(call, all) !== undefined);
      }, 20_000);

      const calls = spans.filter(isCall);
      expect(receiver.rejections).toEqual([]);
      expect(calls.map((call) => call.name)).toEqual(expect.arrayContaining(['hello', 'echo', 'command', 'note']));
      for (const call of calls) {
        const handling = handlingOf(call, spans)!;
        expect(handling.traceId).toBe(call.traceId);
        expect(handling.kind).toBe(call.kind === OtlpSpanKind.CLIENT ? OtlpSpanKind.SERVER : OtlpSpanKind.CONSUMER);
        expect(handling.attributes).toMatchObject({
          [TraceAttributes.PATTERN]: call.name,
          [TraceAttributes.TRANSPORT]: 'tcp',
          [TraceAttributes.OUTCOME]: call.attributes[TraceAttributes.OUTCOME],
        });
      }
      expect(
        calls
          .filter((call) => call.attributes[TraceAttributes.OUTCOME] !== 'ok')
          .map((call) => call.attributes[TraceAttributes.ERROR_CODE]),
      ).toEqual(expect.arrayContaining(['VALIDATION_FAILED', 'UNKNOWN_COMMAND']));

      // The server's log line of the worker's hello carries the trace id of that call.
      const hello = calls.find((call) => call.name === 'hello')!;
      const helloLine = await server.waitForOutput(/"hello from \\"traced-worker\\""/, 5_000);
      expect(JSON.parse(helloLine)).toMatchObject({
        context: 'HelloController',
        traceId: hello.traceId,
        spanId: handlingOf(hello, spans)!.spanId,
      });
    });
  });
});
