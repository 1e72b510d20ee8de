import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** How a peer writes strings and reads lines. */
export type PeerEncoding = 'utf-8' | 'gbk';

export interface LinePeerOptions {
  host?: string;
  /** How strings are written and lines read; UTF-8 by default. */
  encoding?: PeerEncoding;
  /** Bound of the connect. */
  timeoutMs?: number;
  /** The address to connect from, e.g. `127.0.0.2` to count as another client (per-address limits). */
  localAddress?: string;
}

/** Every wait of these helpers is bounded; this is the default bound. */
export const READ_TIMEOUT_MS = 5_000;

const LF = 0x0a;

/**
 * A raw TCP peer of the text gateway: it writes bytes or strings (in its encoding) and reads
 * `\n`-terminated lines, each read bounded by a timeout that fails with what did arrive.
 */
export class LinePeer {
  /** Complete lines received and not read yet, without their `\n`. */
  private readonly lines: Buffer[] = [];
  private partial: Buffer[] = [];
  private readonly wakers = new Set<() => void>();
  private closedAt: number | undefined;
  /** Settles when the connection is closed, from either side. */
  readonly closed: Promise<void>;
  /** Errors of the connection, e.g. ECONNRESET when the server cut it off. */
  readonly errors: Error[] = [];
  /** Bytes received so far, lines and partial line alike. */
  bytesReceived = 0;

  private constructor(
    readonly socket: Socket,
    public encoding: PeerEncoding,
  ) {
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('error', (error) => this.errors.push(error));
    this.closed = once(socket, 'close').then(
      () => this.markClosed(),
      () => this.markClosed(),
    );
  }

  static async connect(
    port: number,
    { host = '127.0.0.1', encoding, timeoutMs = READ_TIMEOUT_MS, localAddress }: LinePeerOptions = {},
  ): Promise<LinePeer> {
    const socket = connect({ port, host, noDelay: true, ...(localAddress === undefined ? {} : { localAddress }) });
    const peer = new LinePeer(socket, encoding ?? 'utf-8');
    let connected: boolean;
    try {
      connected = await withTimeout(
        Promise.race([once(socket, 'connect').then(() => true), peer.closed.then(() => false)]),
        timeoutMs,
        () => `no connection to ${host}:${port} within ${timeoutMs} ms`,
      );
    } catch (error) {
      socket.destroy();
      throw error;
    }
    if (!connected) {
      throw new Error(`connection to ${host}:${port} closed before it opened: ${peer.errors.map((error) => error.message).join('; ')}`);
    }
    return peer;
  }

  get isClosed(): boolean {
    return this.closedAt !== undefined;
  }

  /** Lines received and not read yet. */
  get unreadLines(): number {
    return this.lines.length;
  }

  /** Writes a string in this peer's encoding, or bytes as they are; resolves with whether they reached the kernel. */
  write(data: string | Buffer): Promise<boolean> {
    const bytes = typeof data === 'string' ? encodeAs(data, this.encoding) : data;
    if (this.socket.destroyed || this.socket.writableEnded) {
      return Promise.resolve(false);
    }
    return new Promise<boolean>((resolve) => this.socket.write(bytes, (error) => resolve(!error)));
  }

  /** Writes `text` and `\n`. */
  send(text: string): Promise<boolean> {
    return this.write(`${text}\n`);
  }

  /** The next line's bytes (without `\n`); rejects after `timeoutMs`, or once the connection closed with no line left. */
  async readLineBytes(timeoutMs = READ_TIMEOUT_MS): Promise<Buffer> {
    const deadline = performance.now() + timeoutMs;
    while (this.lines.length === 0) {
      const left = deadline - performance.now();
      if (this.isClosed || left <= 0) {
        throw new Error(
          `${this.isClosed ? 'connection closed' : `no line within ${timeoutMs} ms`}; ` +
            `partial line received: ${JSON.stringify(decodeAs(Buffer.concat(this.partial), this.encoding))}`,
        );
      }
      await this.nextEvent(left);
    }
    return this.lines.shift()!;
  }

  /** The next line, decoded in this peer's encoding (malformed bytes fail the read). */
  async readLine(timeoutMs = READ_TIMEOUT_MS): Promise<string> {
    return decodeAs(await this.readLineBytes(timeoutMs), this.encoding);
  }

  /** The next `count` lines, all within `timeoutMs`. */
  async readLines(count: number, timeoutMs = READ_TIMEOUT_MS): Promise<string[]> {
    const deadline = performance.now() + timeoutMs;
    const lines: string[] = [];
    while (lines.length < count) {
      try {
        lines.push(await this.readLine(Math.max(1, deadline - performance.now())));
      } catch (error) {
        throw new Error(`${lines.length} of ${count} lines read (last ${JSON.stringify(lines.slice(-3))}): ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    return lines;
  }

  /** Reads lines until one satisfies `matches` (returned); the lines before it are returned too. */
  async readUntil(matches: (line: string) => boolean, timeoutMs = READ_TIMEOUT_MS): Promise<{ line: string; before: string[] }> {
    const deadline = performance.now() + timeoutMs;
    const before: string[] = [];
    for (;;) {
      const line = await this.readLine(Math.max(1, deadline - performance.now())).catch((error: Error) => {
        throw new Error(`after ${JSON.stringify(before.slice(-3))}: ${error.message}`);
      });
      if (matches(line)) {
        return { line, before };
      }
      before.push(line);
    }
  }

  /** Sends a line and reads the next line. */
  async ask(text: string, timeoutMs = READ_TIMEOUT_MS): Promise<string> {
    await this.send(text);
    return this.readLine(timeoutMs);
  }

  /** Waits `ms` and returns the lines (decoded) and partial-line bytes that arrived meanwhile, reading them. */
  async drainFor(ms: number): Promise<{ lines: string[]; partialBytes: number }> {
    await delay(ms);
    const lines = this.lines.splice(0).map((line) => decodeAs(line, this.encoding));
    return { lines, partialBytes: this.partial.reduce((sum, chunk) => sum + chunk.length, 0) };
  }

  /** Whether the connection closed within `ms`, measured from now. */
  async closesWithin(ms: number): Promise<boolean> {
    if (this.isClosed) {
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const result = await Promise.race([this.closed.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return result;
  }

  /** Stops reading: the kernel buffers fill and then the server's writes wait (a peer that does not read). */
  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    let start = 0;
    for (let newline = chunk.indexOf(LF); newline !== -1; newline = chunk.indexOf(LF, start)) {
      this.partial.push(chunk.subarray(start, newline));
      this.lines.push(Buffer.concat(this.partial));
      this.partial = [];
      start = newline + 1;
    }
    if (start < chunk.length) {
      this.partial.push(chunk.subarray(start));
    }
    this.notify();
  }

  private markClosed(): void {
    this.closedAt ??= performance.now();
    this.notify();
  }

  private notify(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    wakers.forEach((wake) => wake());
  }

  /** Resolves at the next data or close, or after `ms`. */
  private nextEvent(ms: number): Promise<void> {
    return nextWake(this.wakers, ms);
  }
}

/** Peers of one test or suite, all destroyed at once. */
export class PeerSet {
  private readonly peers = new Set<LinePeer>();
  private readonly datagramPeers = new Set<DatagramPeer>();

  async connect(port: number, options?: LinePeerOptions): Promise<LinePeer> {
    const peer = await LinePeer.connect(port, options);
    this.peers.add(peer);
    return peer;
  }

  async datagram(port: number, host = '127.0.0.1'): Promise<DatagramPeer> {
    const peer = await DatagramPeer.open(port, host);
    this.datagramPeers.add(peer);
    return peer;
  }

  /** Destroys every peer and waits (bounded) until their sockets are closed. */
  async destroyAll(): Promise<void> {
    const peers = [...this.peers];
    this.peers.clear();
    peers.forEach((peer) => peer.destroy());
    const datagramPeers = [...this.datagramPeers];
    this.datagramPeers.clear();
    await Promise.all([...peers.map((peer) => peer.closesWithin(2_000)), ...datagramPeers.map((peer) => peer.close())]);
  }
}

/** A UDP peer: each `request` is one datagram, its reply one datagram; every wait is bounded. */
export class DatagramPeer {
  private readonly replies: Buffer[] = [];
  private readonly wakers = new Set<() => void>();

  private constructor(
    readonly socket: DgramSocket,
    private readonly port: number,
    private readonly host: string,
  ) {
    socket.on('message', (message: Buffer) => {
      this.replies.push(message);
      const wakers = [...this.wakers];
      this.wakers.clear();
      wakers.forEach((wake) => wake());
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, host = '127.0.0.1'): Promise<DatagramPeer> {
    const socket = createSocket('udp4');
    await withTimeout(
      new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve())),
      READ_TIMEOUT_MS,
      () => 'UDP bind timed out',
    );
    return new DatagramPeer(socket, port, host);
  }

  /** Replies received and not read yet. */
  get unread(): number {
    return this.replies.length;
  }

  send(datagram: string | Buffer): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.socket.send(typeof datagram === 'string' ? Buffer.from(datagram, 'utf8') : datagram, this.port, this.host, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
  }

  /** The next reply datagram; rejects after `timeoutMs`. */
  async reply(timeoutMs = READ_TIMEOUT_MS): Promise<Buffer> {
    const deadline = performance.now() + timeoutMs;
    while (this.replies.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new Error(`no reply datagram within ${timeoutMs} ms`);
      }
      await nextWake(this.wakers, left);
    }
    return this.replies.shift()!;
  }

  /** Sends one datagram and returns its reply. */
  async request(datagram: string | Buffer, timeoutMs = READ_TIMEOUT_MS): Promise<Buffer> {
    await this.send(datagram);
    return this.reply(timeoutMs);
  }

  /** The replies that arrive within `ms` (none expected, typically). */
  async repliesWithin(ms: number): Promise<Buffer[]> {
    await delay(ms);
    return this.replies.splice(0);
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // closed already
      }
    });
  }
}

/** Resolves when one of `wakers` is called, or after `ms`. */
function nextWake(wakers: Set<() => void>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      wakers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    wakers.add(wake);
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `promise`, or a rejection with `describe()` after `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(describe())), ms);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `read` until `holds` is true of its value or `timeoutMs` passed; returns the last value. */
export async function pollUntil<T>(
  read: () => Promise<T> | T,
  holds: (value: T) => boolean,
  timeoutMs = READ_TIMEOUT_MS,
  everyMs = 20,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let value = await read();
  while (!holds(value) && performance.now() < deadline) {
    await delay(everyMs);
    value = await read();
  }
  return value;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
const gbkDecoder = new TextDecoder('gbk', { fatal: true });

export function decodeAs(bytes: Buffer, encoding: PeerEncoding): string {
  return (encoding === 'gbk' ? gbkDecoder : utf8Decoder).decode(bytes);
}

let gbkTable: Map<string, Buffer> | undefined;

/**
 * GBK bytes of `text`, from a table built with the WHATWG GBK decoder (not the server's encoder):
 * every two-byte code [81–FE][40–7E 80–FE] decoded once. Throws on a character GBK has no two-byte code for.
 */
export function gbk(text: string): Buffer {
  gbkTable ??= buildGbkTable();
  const parts: Buffer[] = [];
  for (const char of text) {
    if (char.codePointAt(0)! < 0x80) {
      parts.push(Buffer.from(char, 'latin1'));
      continue;
    }
    const code = gbkTable.get(char);
    if (code === undefined) {
      throw new Error(`no GBK code for ${JSON.stringify(char)}`);
    }
    parts.push(code);
  }
  return Buffer.concat(parts);
}

export function encodeAs(text: string, encoding: PeerEncoding): Buffer {
  return encoding === 'gbk' ? gbk(text) : Buffer.from(text, 'utf8');
}

function buildGbkTable(): Map<string, Buffer> {
  const table = new Map<string, Buffer>();
  const decoder = new TextDecoder('gbk', { fatal: true });
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) {
        continue;
      }
      const code = Buffer.from([lead, trail]);
      try {
        const char = decoder.decode(code);
        if (!table.has(char)) {
          table.set(char, code);
        }
      } catch {
        // not a character
      }
    }
  }
  return table;
}
