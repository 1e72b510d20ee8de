import {
  CONTRACT,
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  RpcClientError,
  WireLimits,
  type CallOptions,
  type CommandRequest,
  type CommandResponse,
  type EchoClient,
  type EchoClientApi,
  type EventOf,
  type EventPattern,
  type EchoClientConnectionInfo,
  type EchoRequest,
  type EchoResponse,
  type HelloRequest,
  type HelloResponse,
  type NoteEvent,
  type ReplicaInfo,
  type RequestOf,
  type RequestPattern,
  type RequestUnit,
  type ResponseOf,
  type RpcErrorEnvelope,
  type ServerStats,
} from '@echo-pair/common';
import { ManualClock } from './manual-clock';

type CommandImplementation = (args: string[]) => string | Promise<string>;

/**
 * An in-memory stand-in for `EchoClient` that answers like the echo server does.
 * Tests replace `commands` entries or `echoText` to make it misbehave.
 * Its `sleep` and `uptime` run on `clock`: `sleep 100` moves it 100 ms at once, and a
 * test that measures time installs it (`client.clock.install()`).
 */
export class FakeEchoClient implements EchoClientApi {
  readonly calls: Array<{ pattern: string; payload: unknown }> = [];
  readonly clock = new ManualClock();
  readonly startedAt = this.clock.now();
  notes = 0;
  echoes = 0;
  closed = false;
  /** Turns the text of an echo request into the text of its reply. */
  echoText: (text: string) => string = (text) => text;
  /** The replicas `connectionInfo()` reports: by default one, "fake", which carried every call so far. */
  replicas: () => Array<Pick<ReplicaInfo, 'address' | 'calls' | 'failures'>> = () => [
    { address: 'fake', calls: this.calls.length, failures: 0 },
  ];
  /** The `instance` that `hello` names, by the replica it was sent to (`options.replica`). */
  instanceOf: (replica: string | undefined) => string = () => 'test';
  /** The replica each `hello` was sent to (`options.replica`). */
  readonly helloReplicas: Array<string | undefined> = [];

  readonly commands: Record<string, CommandImplementation> = {
    upper: (args) => joined(args).toUpperCase(),
    lower: (args) => joined(args).toLowerCase(),
    reverse: (args) =>
      [...new Intl.Segmenter().segment(joined(args))]
        .map((segment) => segment.segment)
        .reverse()
        .join(''),
    time: () => new Date().toISOString(),
    uptime: () => `up 0d 00:00:01 (${((this.clock.now() - this.startedAt) / 1000).toFixed(3)} s)`,
    sleep: async ([ms]) => {
      this.clock.advance(Number(ms));
      await Promise.resolve();
      return `slept ${ms} ms`;
    },
    help: ([name]) =>
      this.helloReply()
        .commands.filter((command) => name === undefined || command.name === name)
        .map((command) => `${command.usage}  ${command.description}`)
        .join('\n'),
    stats: () => JSON.stringify(this.statsReply()),
  };

  /** What the server's `stats` command would count for the calls made so far. */
  statsReply(): ServerStats {
    return {
      uptimeSeconds: 1,
      connections: { open: 1, total: 1, rejected: 0, evicted: 0 },
      messages: Object.fromEntries(REQUEST_PATTERNS.map((pattern) => [pattern, this.count(pattern)])) as Record<RequestPattern, number>,
      events: { note: this.notes },
      commands: {},
      errors: { total: 0, byCode: {} },
      rejections: { total: 0, byReason: {} },
      transports: {
        tcp: {
          connections: { open: 1, total: 1 },
          messages: REQUEST_PATTERNS.reduce((sum, pattern) => sum + this.count(pattern), this.notes),
          errors: 0,
        },
        text: { connections: { open: 0, total: 0 }, messages: 0, errors: 0 },
        udp: { connections: { open: 0, total: 0 }, messages: 0, errors: 0 },
      },
      chat: { rooms: 0, members: 0, deliveries: 0, cutOff: 0 },
      datagrams: { received: 0, dropped: 0, droppedByReason: {}, repliesTooLarge: 0 },
    };
  }

  helloReply(instance = 'test'): HelloResponse {
    return {
      welcome: 'Welcome to the fake echo server!',
      server: 'fake-echo-server',
      version: '0.0.0',
      instance,
      serverTime: new Date().toISOString(),
      patterns: { requests: [...REQUEST_PATTERNS], events: [...EVENT_PATTERNS] },
      commands: Object.keys(this.commands).map((name) => ({ name, usage: `${name} [args...]`, description: `does ${name}` })),
      // The real server's limits with its default configuration.
      limits: { ...WireLimits, maxMessageLength: 8 * 1024 * 1024, incompleteMessageTimeoutMs: 10_000, sleepMaxMs: 10_000 },
    };
  }

  asEchoClient(): EchoClient {
    return this as unknown as EchoClient;
  }

  async hello(request: HelloRequest = {}, options?: CallOptions): Promise<HelloResponse> {
    this.helloReplicas.push(options?.replica);
    const reply = await this.send('hello', request);
    return { ...reply, instance: this.instanceOf(options?.replica) };
  }

  connectionInfo(): EchoClientConnectionInfo {
    const replicas = this.replicas().map((replica): ReplicaInfo => ({
      state: 'connected',
      attempts: 1,
      connects: 1,
      drops: 0,
      consecutiveFailures: 0,
      consecutiveTimeouts: 0,
      deadConnections: 0,
      inFlight: 0,
      ejected: false,
      draining: false,
      retiring: false,
      ...replica,
    }));
    return {
      state: 'connected',
      attempts: 1,
      connects: 1,
      drops: 0,
      consecutiveFailures: 0,
      consecutiveTimeouts: 0,
      deadConnections: 0,
      replicas,
    };
  }

  echo(request: EchoRequest): Promise<EchoResponse> {
    return this.send('echo', request);
  }

  command(request: CommandRequest): Promise<CommandResponse> {
    return this.send('command', request);
  }

  /** Over TCP, as the fake always is, the client has no datagram limit. */
  readonly maxDatagramBytes: number | undefined = undefined;

  note(event: NoteEvent): Promise<void> {
    return this.emit('note', event);
  }

  async emit<E extends EventPattern>(pattern: E, event: EventOf<E>): Promise<void> {
    this.calls.push({ pattern, payload: event });
    this.notes += 1;
    await Promise.resolve();
  }

  async send<P extends RequestPattern>(pattern: P, request: RequestOf<P>): Promise<ResponseOf<P>> {
    this.calls.push({ pattern, payload: request });
    return (await this.answer(pattern, request)) as ResponseOf<P>;
  }

  async connect(): Promise<void> {
    await Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.resolve();
  }

  private count(pattern: RequestPattern): number {
    return this.calls.filter((call) => call.pattern === pattern).length;
  }

  private async answer(pattern: RequestPattern, request: unknown): Promise<unknown> {
    switch (pattern) {
      case 'hello':
        return this.helloReply();
      case 'echo':
        return this.answerEcho(request as EchoRequest);
      case 'command':
        return this.answerCommand(request as CommandRequest);
      default:
        // A pattern added to the contract: the fake answers what its contract example expects.
        return (CONTRACT.requests as Record<string, RequestUnit<object, unknown>>)[pattern as string]?.example.response;
    }
  }

  private answerEcho({ text }: EchoRequest): EchoResponse {
    if (typeof text !== 'string') {
      throw rejection('echo', {
        code: 'VALIDATION_FAILED',
        message: 'invalid echo request',
        details: { violations: [{ field: 'text', constraints: { isString: 'text must be a string' } }] },
      });
    }
    this.echoes += 1;
    const reply = this.echoText(text);
    return {
      text: reply,
      receivedAt: new Date().toISOString(),
      bytes: Buffer.byteLength(reply, 'utf8'),
      codeUnits: reply.length,
      codePoints: [...reply].length,
    };
  }

  private async answerCommand({ name, args = [] }: CommandRequest): Promise<CommandResponse> {
    const implementation = this.commands[name];
    if (!implementation) {
      throw rejection('command', {
        code: 'UNKNOWN_COMMAND',
        message: `unknown command "${name}"`,
        details: { command: name, knownCommands: Object.keys(this.commands) },
      });
    }
    const startedAt = new Date().toISOString();
    return { name, args, output: await implementation(args), startedAt, durationMs: 0 };
  }
}

export function rejection(pattern: string, envelope: RpcErrorEnvelope): RpcClientError {
  return new RpcClientError({ code: envelope.code, message: envelope.message, pattern, envelope });
}

function joined(args: string[]): string {
  return args.join(' ');
}
