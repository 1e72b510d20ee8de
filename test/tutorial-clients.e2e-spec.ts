import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, join } from 'node:path';
import { EVENT_PATTERNS, eventExampleOf, REQUEST_PATTERNS, requestExampleOf } from '@echo-pair/common';
import { CommandRegistry, type RunningEchoServer } from '@echo-pair/echo-server';
import { REPO_ROOT } from './support/run-process';
import { startTestServer } from './support/test-server';

const CLIENTS = join(__dirname, 'tutorial-clients');
/** Every client process is killed when it outlives this (the scripts' own socket timeouts are 5 s). */
const PROCESS_TIMEOUT_MS = 20_000;
/** The longest a test waits for one line of a running client. */
const LINE_WAIT_MS = 10_000;
const SERVER_NAME = 'tutorial-echo';
/**
 * Above the default 200 ms, so that a client that speaks first does so well within it even on a
 * loaded machine; the clients that read first wait this long for the welcome.
 */
const WELCOME_DELAY_MS = 500;
const NC = findOnPath('nc');

interface ClientExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Client processes not yet exited; afterEach kills those a failed test left running. */
const running = new Set<ClientProcess>();

/** One client process (a tutorial script, or `nc`): its output, its keyboard (stdin), and its exit. */
class ClientProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<ClientExit>;
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly listeners = new Set<() => void>();

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, {
      cwd: REPO_ROOT,
      // Python writes its output (Chinese included) in UTF-8, whatever the locale, and at once (-u).
      env: { ...process.env, PYTHONIOENCODING: 'utf-8', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.add(this);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.child.kill('SIGKILL');
    }, PROCESS_TIMEOUT_MS);
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.output(() => (this.stdout += chunk)));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => this.output(() => (this.stderr += chunk)));
    this.child.stdin.on('error', () => undefined); // it may exit before reading all its input
    this.exited = new Promise<ClientExit>((resolve, reject) => {
      this.child.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        running.delete(this);
        reject(error.code === 'ENOENT' ? new Error(`${command} is not on PATH (${error.message})`) : error);
      });
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        running.delete(this);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, timedOut });
        this.listeners.forEach((listener) => listener());
      });
    });
    this.exited.catch(() => undefined); // whoever awaits `exited` sees the failure
  }

  static python(script: string, server: RunningEchoServer, port: number | undefined, ...args: string[]): ClientProcess {
    if (port === undefined) {
      throw new Error('the test server has no port for this client');
    }
    return new ClientProcess('python3', ['-u', join(CLIENTS, script), server.host, String(port), ...args]);
  }

  /** Types a line on the client's keyboard. */
  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin.end();
  }

  /** Resolves once stdout has the line `line`, already or later; rejects after `LINE_WAIT_MS` or if the process exits first. */
  waitForLine(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(deadline);
        this.listeners.delete(look);
      };
      const look = (): void => {
        if (this.stdout.split('\n').includes(line)) {
          done();
          resolve();
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done();
          reject(new Error(`exited before printing ${JSON.stringify(line)}\n${this.transcript()}`));
        }
      };
      const deadline = setTimeout(() => {
        done();
        reject(new Error(`no line ${JSON.stringify(line)} within ${LINE_WAIT_MS} ms\n${this.transcript()}`));
      }, LINE_WAIT_MS);
      this.listeners.add(look);
      look();
    });
  }

  /** Waits for the exit and checks it was a clean one; returns stdout. */
  async succeeds(): Promise<string> {
    const exit = await this.exited;
    if (exit.code !== 0 || exit.timedOut) {
      throw new Error(`expected exit code 0, got ${exit.code} (signal ${exit.signal}, timed out ${exit.timedOut})\n${this.transcript()}`);
    }
    return exit.stdout;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private output(append: () => void): void {
    append();
    this.listeners.forEach((listener) => listener());
  }

  private transcript(): string {
    return `--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`;
  }
}

/** The lines, each ended by `\n`, as a script prints them. */
function lines(...printed: string[]): string {
  return printed.map((line) => `${line}\n`).join('');
}

/** Python's repr() of a str without quotes: backslashes doubled, printable characters, Chinese included, stay as they are. */
function pyStr(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}'`;
}

/** Python's repr() of a bytes object without quotes or backslashes. */
function pyBytes(bytes: Buffer): string {
  let body = '';
  for (const byte of bytes) {
    body += byte === 0x0a ? '\\n' : byte >= 0x20 && byte < 0x7f ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `b'${body}'`;
}

/** GBK bytes as Python's str.encode('gbk') writes them (written out here, not computed by the server's codec). */
const GBK = {
  '你好，世界\n': Buffer.from('c4e3bac3a3accac0bde70a', 'hex'),
  'HELLO 世界\n': Buffer.from('48454c4c4f20cac0bde70a', 'hex'),
};

function findOnPath(command: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    const path = join(directory, command);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Real Python 3 clients, written the way the classic socket tutorials write them (and `nc`),
 * against the text gateway and the UDP endpoint of a live server on 127.0.0.1.
 */
describe('tutorial clients (Python 3 and nc)', () => {
  let server: RunningEchoServer;
  let welcome: string;

  beforeAll(async () => {
    const version = new ClientProcess('python3', ['-c', 'import sys; print(sys.version_info[0])']);
    expect(await version.succeeds()).toBe('3\n');
    server = await startTestServer({ SERVER_NAME, TEXT_WELCOME_DELAY_MS: String(WELCOME_DELAY_MS) });
    const { version: serverVersion } = JSON.parse(readFileSync(join(REPO_ROOT, 'services/echo-server/package.json'), 'utf8')) as {
      version: string;
    };
    const commands = server.app
      .get(CommandRegistry)
      .names()
      .map((name) => `/${name}`)
      .join(' ');
    // The contract's examples, as JSON with non-ASCII written as \u escapes: the welcome is ASCII.
    const ascii = (value: unknown): string =>
      JSON.stringify(value).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const patterns = [
      ...REQUEST_PATTERNS.map((pattern) => `/call ${pattern} ${ascii(requestExampleOf(pattern).request)}`),
      ...EVENT_PATTERNS.map((pattern) => `/emit ${pattern} ${ascii(eventExampleOf(pattern))}`),
    ].join(' | ');
    welcome =
      `Welcome to ${SERVER_NAME} ${serverVersion} on ${hostname()}! Type a line and it comes back. ` +
      `Commands: ${commands} /nick /join /leave /who /encoding. Patterns: ${patterns}. Type quit to leave.`;
  });

  afterEach(async () => {
    const left = [...running];
    left.forEach((client) => client.kill());
    await Promise.all(left.map((client) => client.exited.catch(() => undefined)));
  });

  afterAll(async () => {
    await server?.close();
  });

  describe('TCP text gateway', () => {
    it('echo_client.py sends "你好" without a newline, recv(1024) gets "你好\\n", and no welcome follows', async () => {
      const stdout = await ClientProcess.python('echo_client.py', server, server.textPort).succeeds();

      expect(stdout).toBe(lines(`Received: ${pyStr('你好\n')}`, 'Then: nothing more'));
    });

    it('welcome_client.py reads first: one ASCII welcome line, then its echo', async () => {
      const stdout = await ClientProcess.python('welcome_client.py', server, server.textPort).succeeds();

      expect(welcome).toMatch(/\/upper .*\/encoding\. Patterns: \/call .*\. Type quit to leave\.$/);
      expect(Buffer.byteLength(welcome) + 1).toBeLessThanOrEqual(1024); // one recv(1024)
      expect(stdout).toBe(lines(`Welcome: ${pyStr(`${welcome}\n`)}`, `Received: ${pyStr('hello\n')}`));
    });

    it('many_messages_client.py gets one reply per message on one connection', async () => {
      const stdout = await ClientProcess.python('many_messages_client.py', server, server.textPort).succeeds();

      expect(stdout).toBe(
        lines(
          `Sent: 'hello' Received: ${pyStr('hello\n')}`,
          `Sent: '你好，世界' Received: ${pyStr('你好，世界\n')}`,
          `Sent: '/upper hi' Received: ${pyStr('HI\n')}`,
          `Sent: '/reverse abc 你好' Received: ${pyStr('好你 cba\n')}`,
          `Sent: '/lower HeLLo' Received: ${pyStr('hello\n')}`,
          `Sent: 'the end' Received: ${pyStr('the end\n')}`,
        ),
      );
    });

    it.each(['quit', 'exit', '/quit'])('quit_client.py says %s: the server answers bye and closes', async (word) => {
      const stdout = await ClientProcess.python('quit_client.py', server, server.textPort, word).succeeds();

      expect(stdout).toBe(lines(`Received: ${pyStr('hello\n')}`, `Received: ${pyStr('bye\n')}`, 'The server closed the connection'));
    });

    it('gbk_client.py sends GBK and reads GBK back', async () => {
      const stdout = await ClientProcess.python('gbk_client.py', server, server.textPort).succeeds();

      expect(stdout).toBe(
        lines(
          `Received: ${pyBytes(GBK['你好，世界\n'])} = ${pyStr('你好，世界\n')}`,
          `Received: ${pyBytes(GBK['HELLO 世界\n'])} = ${pyStr('HELLO 世界\n')}`,
        ),
      );
    });

    it('input_client.py loops on input() lines until it types quit', async () => {
      const client = ClientProcess.python('input_client.py', server, server.textPort);
      ['hello', '你好，世界', '/upper abc', 'quit', 'never sent'].forEach((line) => client.type(line));
      client.endInput();
      const stdout = await client.succeeds();

      expect(stdout).toBe(
        lines(
          `> Server: ${pyStr('hello\n')}`,
          `> Server: ${pyStr('你好，世界\n')}`,
          `> Server: ${pyStr('ABC\n')}`,
          `> Server: ${pyStr('bye\n')}`,
          'Goodbye',
        ),
      );
    });

    it('chat_client.py twice, like two terminals: a UTF-8 and a GBK client in one room read each other', async () => {
      // 小红 types on a UTF-8 terminal.
      const red = ClientProcess.python('chat_client.py', server, server.textPort, 'utf-8');
      await red.waitForLine(`received: ${welcome}`);
      red.type('/nick 小红');
      await red.waitForLine('received: * you are 小红');
      red.type('/join lobby');
      await red.waitForLine('received: * you joined #lobby: 小红 (1 member)');

      // 小明 types on a GBK terminal: his first line, in GBK, sets his connection's encoding.
      const ming = ClientProcess.python('chat_client.py', server, server.textPort, 'gbk');
      await ming.waitForLine(`received: ${welcome}`);
      ming.type('/nick 小明');
      await ming.waitForLine('received: * you are 小明');
      ming.type('/join lobby');
      await ming.waitForLine('received: * you joined #lobby: 小红, 小明 (2 members)');
      await red.waitForLine('received: * 小明 joined #lobby');

      red.type('你好，小明！');
      await ming.waitForLine('received: <小红> 你好，小明！');
      ming.type('你好，小红。我用 GBK。');
      await red.waitForLine('received: <小明> 你好，小红。我用 GBK。');
      red.type('/who');
      await red.waitForLine('received: * #lobby: 小红, 小明 (2 members)');

      red.type('quit');
      const redStdout = await red.succeeds();
      await ming.waitForLine('received: * 小红 left (disconnected) #lobby');
      ming.type('quit');
      const mingStdout = await ming.succeeds();

      // Neither got an echo of its own lines, and each read the other's Chinese in its own encoding.
      expect(redStdout).toBe(
        lines(
          `received: ${welcome}`,
          'received: * you are 小红',
          'received: * you joined #lobby: 小红 (1 member)',
          'received: * 小明 joined #lobby',
          'received: <小明> 你好，小红。我用 GBK。',
          'received: * #lobby: 小红, 小明 (2 members)',
          'received: bye',
          'connection closed by the server',
        ),
      );
      expect(mingStdout).toBe(
        lines(
          `received: ${welcome}`,
          'received: * you are 小明',
          'received: * you joined #lobby: 小红, 小明 (2 members)',
          'received: <小红> 你好，小明！',
          'received: * 小红 left (disconnected) #lobby',
          'received: bye',
          'connection closed by the server',
        ),
      );
    });

    (NC === undefined ? it.skip : it)(
      NC === undefined
        ? 'nc: SKIPPED, no nc on PATH (install netcat-openbsd to run it)'
        : 'nc reads the welcome, then gets a reply line per line until quit closes the connection',
      async () => {
        const nc = new ClientProcess(NC!, [server.host, String(server.textPort)]);
        await nc.waitForLine(welcome);
        ['hello', '/upper hi', '你好，世界', 'quit'].forEach((line) => nc.type(line));
        nc.endInput();
        const stdout = await nc.succeeds();

        expect(stdout).toBe(lines(welcome, 'hello', 'HI', '你好，世界', 'bye'));
      },
    );
  });

  describe('UDP endpoint', () => {
    it.each([
      { encoding: 'utf-8', bytes: (text: string) => Buffer.from(text, 'utf8') },
      { encoding: 'gbk', bytes: (text: keyof typeof GBK) => GBK[text] },
    ])(
      'udp_client.py in $encoding: one reply datagram each, in $encoding, /upper included, /help too large',
      async ({ encoding, bytes }) => {
        const stdout = await ClientProcess.python('udp_client.py', server, server.udpPort, encoding).succeeds();
        const tooLarge = 'ERR REPLY_TOO_LARGE use TCP\n';

        expect(stdout).toBe(
          lines(
            `Received: ${pyBytes(bytes('你好，世界\n'))} = ${pyStr('你好，世界\n')}`,
            `Received: ${pyBytes(bytes('HELLO 世界\n'))} = ${pyStr('HELLO 世界\n')}`,
            `Received: ${pyBytes(Buffer.from(tooLarge))} = ${pyStr(tooLarge)}`,
          ),
        );
      },
    );
  });
});
