import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  ErrorCodes,
  EVENT_PATTERNS,
  eventExampleOf,
  REQUEST_PATTERNS,
  requestExampleOf,
  UDP_HEADER_BYTES,
  UDP_MIN_REQUEST_BYTES,
  UDP_REPLY_FACTOR,
  type EchoClient,
} from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { errorsAdded, readStats, statsWhen } from './support/client-calls';
import { PeerSet, type LinePeer } from './support/line-peer';
import { ClientPool, startTestServer } from './support/test-server';

/** The default TEXT_WELCOME_DELAY_MS. */
const WELCOME_DELAY_MS = 200;
/** UDP text requests are padded with trailing spaces to this size, so that every reply tested here fits the 3x bound. */
const UDP_PAD = 600;
const DOORS = ['text', 'udp'] as const;
type Door = (typeof DOORS)[number];

/** `nc` on the PATH, if any: the usage the docs show is tried with the real tool. */
const NC = (process.env.PATH ?? '')
  .split(delimiter)
  .map((dir) => join(dir, 'nc'))
  .find((path) => existsSync(path));

/** Runs `nc` with `input` on its stdin and returns what it printed; killed after `timeoutMs`. */
function runNc(args: string[], input: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(NC!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== null) {
        reject(new Error(`nc killed by ${signal} after ${timeoutMs} ms; printed ${JSON.stringify(out)}, stderr ${JSON.stringify(err)}`));
      } else {
        resolve(out);
      }
    });
    child.stdin.end(input);
  });
}

describe('every door reaches every pattern: /call and /emit on the text gateway and UDP', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;
  let client: EchoClient;
  const peers = new PeerSet();
  /** This test's text connection, opened by its first line (so that it speaks at once and gets no welcome). */
  let textPeer: LinePeer | undefined;

  beforeAll(async () => {
    server = await startTestServer({ LOG_LEVEL: 'fatal' });
    pool = new ClientPool(server);
    client = pool.create();
  });

  afterEach(async () => {
    textPeer = undefined;
    await peers.destroyAll();
  });

  async function text(): Promise<LinePeer> {
    textPeer ??= await peers.connect(server.textPort!);
    return textPeer;
  }

  afterAll(async () => {
    await peers.destroyAll();
    await pool?.closeAll();
    await server?.close();
  });

  /** One UDP text datagram (padded to `padTo` bytes) and its reply, which must respect the amplification bound. */
  async function askUdp(line: string, padTo = UDP_PAD): Promise<string> {
    const peer = await peers.datagram(server.udpPort!);
    const request = Buffer.from(line.padEnd(padTo, ' '), 'utf8');
    const reply = await peer.request(request);
    expect(reply.length + UDP_HEADER_BYTES).toBeLessThanOrEqual(UDP_REPLY_FACTOR * (request.length + UDP_HEADER_BYTES));
    const decoded = reply.toString('utf8');
    expect(decoded.endsWith('\n')).toBe(true);
    return decoded.slice(0, -1);
  }

  /** The one reply line of `line` at `door`; over UDP a plain line is not padded, since it comes back as sent. */
  function ask(door: Door, line: string): Promise<string> {
    return door === 'text' ? text().then((peer) => peer.ask(line)) : askUdp(line, line.startsWith('/') ? UDP_PAD : 0);
  }

  describe.each(DOORS)('%s', (door) => {
    it('/call echo {"text":"hi"} replies the echo response as one JSON line', async () => {
      const reply = await ask(door, '/call echo {"text":"hi"}');

      expect(JSON.parse(reply)).toEqual({ text: 'hi', receivedAt: expect.any(String) as string, bytes: 2, codeUnits: 2, codePoints: 2 });
    });

    it('/call command runs a command and replies its whole response', async () => {
      const reply = JSON.parse(await ask(door, '/call command {"name":"upper","args":["a"]}')) as Record<string, unknown>;

      expect(reply).toMatchObject({ name: 'upper', args: ['a'], output: 'A' });
      expect(typeof reply.durationMs).toBe('number');
    });

    it("/call reaches every request pattern of the contract with its example, replying the example's response", async () => {
      for (const pattern of REQUEST_PATTERNS) {
        const { request, response } = requestExampleOf(pattern);
        const call = `/call ${pattern} ${JSON.stringify(request)}`;
        const line = door === 'text' ? await ask(door, call) : await askUdp(call, UDP_MIN_REQUEST_BYTES);

        expect({ pattern, reply: JSON.parse(line) as unknown }).toMatchObject({ pattern, reply: response });
      }
    });

    it('/emit reaches every event pattern of the contract: OK, and its handler ran (the stats count it)', async () => {
      for (const pattern of EVENT_PATTERNS) {
        const before = await readStats(client);

        expect(await ask(door, `/emit ${pattern} ${JSON.stringify(eventExampleOf(pattern))}`)).toBe('OK');

        const after = await statsWhen(client, (stats) => stats.events[pattern] > before.events[pattern]);
        expect(after.events[pattern]).toBe(before.events[pattern] + 1);
        expect(after.transports[door].messages).toBeGreaterThan(before.transports[door].messages);
        expect(errorsAdded(before, after)).toEqual({});
      }
    });

    it('/emit note {"text":"..."} replies OK', async () => {
      expect(await ask(door, '/emit note {"text":"from the e2e suite","author":"call-doors"}')).toBe('OK');
    });

    it('refuses an unknown pattern with UNKNOWN_PATTERN naming the known ones, counted, and serves on', async () => {
      const before = await readStats(client);

      expect(await ask(door, '/call nope {}')).toBe(`ERR UNKNOWN_PATTERN no request pattern "nope"; known: ${REQUEST_PATTERNS.join(', ')}`);
      expect(await ask(door, '/emit nope {}')).toBe(`ERR UNKNOWN_PATTERN no event pattern "nope"; known: ${EVENT_PATTERNS.join(', ')}`);

      const after = await readStats(client);
      expect(errorsAdded(before, after)).toEqual({ [ErrorCodes.UNKNOWN_PATTERN]: 2 });
      expect(after.transports[door].errors - before.transports[door].errors).toBe(2);
      expect(after.messages).toEqual({ ...before.messages, command: before.messages.command + 1 }); // the first readStats
      expect(await ask(door, 'still served')).toBe('still served');
    });

    it('refuses an event with /call and a request with /emit, naming the verb to use', async () => {
      expect(await ask(door, '/call note {"text":"x"}')).toBe(
        'ERR UNKNOWN_PATTERN "note" is an event pattern: send it with /emit note <json>',
      );
      expect(await ask(door, '/emit echo {"text":"x"}')).toBe(
        'ERR UNKNOWN_PATTERN "echo" is a request pattern: send it with /call echo <json>',
      );
    });

    it('refuses a payload that is not JSON with VALIDATION_FAILED', async () => {
      expect(await ask(door, '/call echo {text: hi}')).toMatch(/^ERR VALIDATION_FAILED invalid request: the payload must be JSON \(.+\)$/);
      expect(await ask(door, '/emit note {"text":')).toMatch(/^ERR VALIDATION_FAILED invalid request: the payload must be JSON/);
    });

    it("refuses a payload the pattern's DTO refuses, naming the fields, as every transport does", async () => {
      expect(await ask(door, '/call echo {"text":5}')).toBe('ERR VALIDATION_FAILED invalid request: text');
      expect(await ask(door, '/call echo {}')).toBe('ERR VALIDATION_FAILED invalid request: text');
      expect(await ask(door, '/call echo [1]')).toBe('ERR VALIDATION_FAILED invalid request: the payload must be a JSON object');
      expect(await ask(door, '/call command {"name":"upper","args":"a"}')).toBe('ERR VALIDATION_FAILED invalid request: args');
      expect(await ask(door, '/emit note {"text":""}')).toBe('ERR VALIDATION_FAILED invalid request: text');
      expect(await ask(door, '/emit note {"text":"x","extra":1}')).toBe('ERR VALIDATION_FAILED invalid request: extra');
    });

    it('refuses /call without a pattern with INVALID_COMMAND_ARGS', async () => {
      expect(await ask(door, '/call')).toBe(`ERR INVALID_COMMAND_ARGS call: expects a pattern, e.g. /call ${REQUEST_PATTERNS[0]} {...}`);
    });

    it('keeps plain lines and commands as they were', async () => {
      expect(await ask(door, 'a plain line')).toBe('a plain line');
      expect(await ask(door, '/upper x')).toBe('X');
      expect(await ask(door, '/nope')).toMatch(/^ERR UNKNOWN_COMMAND /);
      expect(await ask(door, 'call echo {"text":"hi"}')).toBe('call echo {"text":"hi"}');
    });

    it('/help lists /call and /emit, and every pattern of the contract with its example', async () => {
      let lines: string[];
      if (door === 'text') {
        const peer = await text();
        // The echo of a line sent after /help marks the end of its reply.
        await peer.write('/help\nend of help\n');
        lines = (await peer.readUntil((line) => line === 'end of help')).before;
      } else {
        lines = (await askUdp('/help', UDP_MIN_REQUEST_BYTES)).split('\n');
      }
      expect(lines.some((line) => line.startsWith('upper <text...>'))).toBe(true);
      if (door === 'text') {
        expect(lines.some((line) => line.startsWith('join <room>'))).toBe(true);
      }
      expect(lines.some((line) => line.startsWith('call <pattern> [json] '))).toBe(true);
      expect(lines.some((line) => line.startsWith('emit <pattern> [json] '))).toBe(true);
      for (const pattern of REQUEST_PATTERNS) {
        expect(lines).toContain(`  /call ${pattern} ${JSON.stringify(requestExampleOf(pattern).request)}`);
      }
      for (const pattern of EVENT_PATTERNS) {
        expect(lines).toContain(`  /emit ${pattern} ${JSON.stringify(eventExampleOf(pattern))}`);
      }
    });
  });

  describe('UDP amplification bound', () => {
    it('answers an unpadded /call whose response is over 3x the request with REPLY_TOO_LARGE, and the padded one in full', async () => {
      expect(await askUdp('/call hello {}', 0)).toBe('ERR REPLY_TOO_LARGE use TCP');
      expect(JSON.parse(await askUdp('/call hello {}', UDP_MIN_REQUEST_BYTES))).toMatchObject({
        patterns: { requests: [...REQUEST_PATTERNS] },
      });
    });

    it('answers the short /call echo of the docs unpadded', async () => {
      expect(JSON.parse(await askUdp('/call echo {"text":"hi"}', 0))).toMatchObject({ text: 'hi' });
    });
  });

  describe('text gateway', () => {
    it('the welcome lists every pattern of the contract with its example, on one ASCII line', async () => {
      const peer = await peers.connect(server.textPort!);
      const welcome = await peer.readLine(WELCOME_DELAY_MS + 2_000);

      expect(welcome).toMatch(/^[\x20-\x7e]+$/);
      expect(welcome).toContain('/help');
      const listed = /Patterns: (.*)\. Type quit to leave\.$/.exec(welcome)?.[1];
      expect(listed).toBeDefined();
      const examples = listed!.split(' | ').map((entry) => {
        const [, verb, pattern, json] = /^\/(call|emit) (\S+) (.*)$/.exec(entry) ?? [];
        return { verb, pattern, payload: JSON.parse(json) as unknown };
      });
      expect(examples).toEqual([
        ...REQUEST_PATTERNS.map((pattern) => ({ verb: 'call', pattern, payload: requestExampleOf(pattern).request })),
        ...EVENT_PATTERNS.map((pattern) => ({ verb: 'emit', pattern, payload: eventExampleOf(pattern) })),
      ]);
      // Every example of the welcome works as typed.
      for (const entry of listed!.split(' | ')) {
        expect(await peer.ask(entry)).toMatch(/^(\{.*\}|OK)$/);
      }
    });

    it('answers /call to the caller alone inside a chat room; plain lines still go to the room', async () => {
      const caller = await text();
      const other = await peers.connect(server.textPort!);
      expect(await caller.ask('/join calls')).toMatch(/^\* you joined #calls/);
      expect(await other.ask('/join calls')).toMatch(/^\* you joined #calls/);
      expect(await caller.readLine()).toMatch(/ joined #calls$/);

      expect(JSON.parse(await caller.ask('/call echo {"text":"in a room"}'))).toMatchObject({ text: 'in a room' });
      expect(await caller.ask('/emit note {"text":"in a room"}')).toBe('OK');
      await caller.send('to the room');
      expect(await other.readUntil((line) => line.includes('to the room'))).toMatchObject({ before: [] });
    });

    it('answers a GBK connection in GBK, the JSON included', async () => {
      const peer = await peers.connect(server.textPort!, { encoding: 'gbk' });

      expect(JSON.parse(await peer.ask('/call echo {"text":"你好"}'))).toMatchObject({ text: '你好', codePoints: 2 });
    });
  });

  describe('nc', () => {
    const withNc = NC === undefined ? it.skip : it;
    if (NC === undefined) {
      console.info('call-doors: nc is not installed; the cases that run it are skipped');
    }

    withNc('printf \'/call echo {"text":"hi"}\\n\' | nc -q1 127.0.0.1 <text port> prints the JSON response', async () => {
      const printed = await runNc(['-q1', '127.0.0.1', String(server.textPort!)], '/call echo {"text":"hi"}\n');

      expect(printed.endsWith('\n')).toBe(true);
      expect(JSON.parse(printed)).toMatchObject({ text: 'hi', bytes: 2 });
    });

    withNc("printf '/emit note {...}\\n' | nc -u -w1 127.0.0.1 <UDP port> prints OK", async () => {
      const printed = await runNc(['-u', '-w1', '127.0.0.1', String(server.udpPort!)], '/emit note {"text":"over nc"}\n');

      expect(printed).toBe('OK\n');
    });
  });
});
