import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ServerTCP, TcpContext, type CustomStrategy } from '@nestjs/microservices';
import fc from 'fast-check';
import { lastValueFrom, type Observable } from 'rxjs';
import { once } from 'node:events';
import { createConnection, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { EchoServerTcp } from '../tcp/echo-server-tcp';
import { installSyncFirstDispatch } from './sync-first-rpc-context-creator';
import { isStockRpcContextCreator } from './stock-rpc-context-creator';
import { differentialTrace, DifferentialModule, type Ask } from './testing/differential-module';

interface Running {
  app: INestApplication;
  port: number;
  strategy: ServerTCP;
}

/** The module on a hybrid app as the echo server builds it: stock Nest, or EchoServerTcp with the synchronous dispatch. */
async function start(kind: 'stock' | 'sync-first'): Promise<Running> {
  const app = await NestFactory.create(DifferentialModule, { logger: false });
  const strategy = kind === 'stock' ? new ServerTCP({ host: '127.0.0.1', port: 0 }) : new EchoServerTcp({ host: '127.0.0.1', port: 0 });
  const microservice = app.connectMicroservice<CustomStrategy>(
    { strategy },
    { inheritAppConfig: true, deferInitialization: kind === 'sync-first' },
  );
  if (kind === 'sync-first') {
    installSyncFirstDispatch(microservice);
  }
  await app.init();
  await app.startAllMicroservices();
  return { app, strategy, port: (strategy.unwrap<NetServer>().address() as AddressInfo).port };
}

interface Request {
  pattern: string;
  data: Ask;
  id?: string;
}

/** Sends the requests (all in one write, or one write each) and collects every byte until each request's last packet. */
async function exchange({ port }: Running, requests: Request[], together: boolean): Promise<string> {
  const socket: Socket = createConnection({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const frames = requests.map((request) => {
    const json = JSON.stringify(request);
    return `${json.length}#${json}`;
  });
  if (together) {
    socket.write(frames.join(''));
  } else {
    frames.forEach((frame) => socket.write(frame));
  }
  const finals = requests
    .filter((request) => request.id !== undefined)
    .map((request) => new RegExp(`"id":"${request.id}"[,}][^#]*$|"isDisposed":true,"id":"${request.id}"`));
  const done = (): boolean => finals.every((final) => lastPacketsOf(received).some((packet) => final.test(packet)));
  for (const deadline = Date.now() + 3_000; !done() && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await new Promise((resolve) => setTimeout(resolve, 10)); // anything after the last reply would show
  socket.destroy();
  return received;
}

/** Every packet, in the order received. */
function packetsOf(wire: string): string[] {
  return wire.split(/\d+#/).filter(Boolean);
}

/** The packets that end a request: a stream's last (isDisposed) or an error. */
function lastPacketsOf(received: string): string[] {
  return received
    .split(/\d+#/)
    .filter((packet) => packet.includes('"isDisposed":true') || packet.includes('"err"') || packet.includes('"status":"error"'));
}

/** The trace of each request (`<n> <step>` lines), in its own order; the steps that cannot tell their request, sorted. */
function traceByRequest(trace: string[]): Record<string, string[]> {
  const by: Record<string, string[]> = {};
  for (const line of trace) {
    const key = /^\d+ /.test(line) ? line.slice(0, line.indexOf(' ')) : 'any request';
    (by[key] ??= []).push(line);
  }
  by['any request']?.sort();
  return by;
}

const askArbitrary = (n: number): fc.Arbitrary<Ask> =>
  fc.record(
    {
      n: fc.constant(n),
      guard: fc.constantFrom('sync', 'deny', 'promise', 'observable', 'throw', 'truthy'),
      pipe: fc.constantFrom('sync', 'promise', 'throw'),
      intercept: fc.constantFrom('pass', 'map', 'short', 'promise', 'throw', 'delay', 'catch', 'value', 'array'),
      text: fc.constantFrom('ok', 'throw', 'rpc', 'undefined', 'empty', 'fail', 'delayed'),
    },
    { requiredKeys: ['n'] },
  );

const requestArbitrary = (n: number): fc.Arbitrary<Request> =>
  fc
    .record({
      pattern: fc.constantFrom('plain', 'async', 'stream', 'decorated', 'noted', 'missing'),
      data: askArbitrary(n),
    })
    .map((request) => (request.pattern === 'noted' ? request : { ...request, id: String(n) }));

describe('SyncFirstRpcContextCreator, against stock Nest', () => {
  let stock: Running;
  let ours: Running;

  beforeAll(async () => {
    stock = await start('stock');
    ours = await start('sync-first');
  });

  afterAll(async () => {
    await stock?.app.close();
    await ours?.app.close();
  });

  interface Seen {
    wire: string;
    trace: string[];
  }

  async function both(requests: Request[], together: boolean): Promise<{ expected: Seen; actual: Seen }> {
    differentialTrace.length = 0;
    const stockWire = await exchange(stock, requests, together);
    const expected = { wire: stockWire, trace: [...differentialTrace] };
    differentialTrace.length = 0;
    const ourWire = await exchange(ours, requests, together);
    return { expected, actual: { wire: ourWire, trace: [...differentialTrace] } };
  }

  it('writes the same bytes, in the same order, and runs each request through the same steps, one request at a time', async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(1), async (request) => {
        const { expected, actual } = await both([request], true);
        expect(actual).toEqual(expected);
      }),
      { numRuns: 80 },
    );
  }, 60_000);

  const synchronous = (n: number): fc.Arbitrary<Request> =>
    fc
      .record({
        pattern: fc.constantFrom('plain', 'stream'),
        data: fc.record({
          n: fc.constant(n),
          guard: fc.constantFrom('sync', 'deny', 'throw', 'truthy'),
          pipe: fc.constantFrom('sync', 'throw'),
          intercept: fc.constantFrom('pass', 'map', 'short', 'throw', 'catch', 'value', 'array'),
          text: fc.constantFrom('ok', 'throw', 'rpc', 'undefined', 'empty', 'fail'),
        }),
      })
      .map((request) => ({ ...request, id: String(n) }));

  it('writes the same bytes as stock, in the same order, for requests sent together that take the same steps', async () => {
    await fc.assert(
      fc.asyncProperty(synchronous(1), fc.integer({ min: 2, max: 8 }), fc.boolean(), async (first, count, together) => {
        const requests = Array.from({ length: count }, (_, i) => ({ ...first, data: { ...first.data, n: i + 1 }, id: String(i + 1) }));
        const { expected, actual } = await both(requests, together);
        expect(actual.wire).toBe(expected.wire);
        expect(traceByRequest(actual.trace)).toEqual(traceByRequest(expected.trace));
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  // Stock answers requests that arrived together in the order their pipelines finish, which depends on
  // how many promise steps each takes (a short-circuiting interceptor overtakes); answered synchronously, they keep their order.
  it('sends the same packets as stock for requests sent together whose steps all answer synchronously, their first packets in the order they came', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(...[1, 2, 3, 4, 5, 6].map(synchronous)), fc.boolean(), async (requests, together) => {
        const { expected, actual } = await both(requests, together);
        expect(packetsOf(actual.wire).sort()).toEqual(packetsOf(expected.wire).sort());
        expect(traceByRequest(actual.trace)).toEqual(traceByRequest(expected.trace));
        // A stream's further packets go out through Nest's `send`, a tick apart: its first one keeps the order.
        const firsts = [...new Set(packetsOf(actual.wire).map((packet) => Number(/"id":"(\d+)"/.exec(packet)![1])))];
        expect(firsts).toEqual([1, 2, 3, 4, 5, 6]);
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('gives every request of a mixed batch the same packets and steps as stock', async () => {
    await fc.assert(
      fc.asyncProperty(fc.tuple(...[1, 2, 3, 4, 5].map(requestArbitrary)), async (requests) => {
        const { expected, actual } = await both(requests, true);
        expect(traceByRequest(actual.trace)).toEqual(traceByRequest(expected.trace));
        expect(packetsOf(actual.wire).sort()).toEqual(packetsOf(expected.wire).sort());
      }),
      { numRuns: 40 },
    );
  }, 60_000);

  it('answers a request whose steps are all synchronous there and then, without a promise; stock always returns one', async () => {
    const ask: Ask = { n: 1, guard: 'sync', pipe: 'sync', intercept: 'map', text: 'ok' };
    const context = new TcpContext([undefined as never, 'plain', undefined]);
    const answer = ours.strategy.getHandlerByPattern('plain')!(ask, context) as unknown;
    expect(answer).toEqual({ wrapped: { ...ask, piped: 'now', pattern: 'plain' } });
    const stockAnswer = stock.strategy.getHandlerByPattern('plain')!(ask, context) as unknown;
    expect(stockAnswer).toBeInstanceOf(Promise);
    await stockAnswer;
    const later = ours.strategy.getHandlerByPattern('plain')!({ ...ask, guard: 'promise' }, context) as unknown;
    expect(later).toBeInstanceOf(Promise);
    const settled = (await later) as Observable<unknown>; // as stock's: the interceptor's stream
    expect(await lastValueFrom(settled)).toEqual({ wrapped: { ...ask, guard: 'promise', piped: 'now', pattern: 'plain' } });
  });

  it('reads the members of Nest\u2019s RpcContextCreator it relies on, and refuses a Nest without them', async () => {
    const app = await NestFactory.create(DifferentialModule, { logger: false });
    const microservice = app.connectMicroservice<CustomStrategy>({ strategy: new ServerTCP({ port: 0 }) }, { deferInitialization: true });
    const creator = (microservice as unknown as { microservicesModule: { listenersController: { contextCreator: unknown } } })
      .microservicesModule.listenersController.contextCreator;
    expect(isStockRpcContextCreator(creator)).toBe(true);
    expect(isStockRpcContextCreator({ ...(creator as object), getMetadata: undefined })).toBe(false);
    (
      microservice as unknown as { microservicesModule: { listenersController: { contextCreator: unknown } } }
    ).microservicesModule.listenersController.contextCreator = {};
    expect(() => installSyncFirstDispatch(microservice)).toThrow(/ECHO_FAST_PATH=false/);
    await app.close();
  });
});
