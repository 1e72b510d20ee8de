import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { ProxyHeaderOutcome, ProxyHeaderReader } from '../proxy-header-reader';

/** Every wait of these tests gives up after this long. */
const WAIT_LIMIT_MS = 2_000;

/** One accepted connection as a door wired to the reader sees it. */
export interface DoorConnection {
  socket: Socket;
  outcome: ProxyHeaderOutcome;
  /** The `data` chunks the socket emitted while the reader was at work: how the header arrived. */
  headerChunks: Buffer[];
  /** What the door received after the outcome, up to the peer's end (empty when it was refused). */
  payload: Promise<Buffer>;
}

export interface LoopbackDoorOptions {
  host?: string;
  /** Attach the door's listener without `resume()` (what a door must not do), to prove the socket stays paused. */
  skipResume?: boolean;
}

/**
 * A door on a real loopback server that does what the wiring must do: `reader.read(socket)` on
 * accept, `destroy()` when refused, else its own `data` listener and then `resume()`.
 */
export class LoopbackDoor {
  private readonly accepted: Promise<DoorConnection>[] = [];
  private readonly sockets = new Set<Socket>();
  private latest: Socket | undefined;

  private constructor(
    private readonly server: Server,
    readonly host: string,
    readonly port: number,
  ) {}

  static async start(reader: ProxyHeaderReader, options: LoopbackDoorOptions = {}): Promise<LoopbackDoor> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer();
    server.listen(0, host);
    await once(server, 'listening');
    const door = new LoopbackDoor(server, host, (server.address() as AddressInfo).port);
    server.on('connection', (socket) => door.accepted.push(door.serve(reader, socket, options)));
    return door;
  }

  /** A client connected to the door, sending as soon as it is written to (no Nagle delay); over IPv4 to a dual-stack `::` door. */
  async connect(host = this.host === '::' ? '127.0.0.1' : this.host): Promise<Socket> {
    const client = connect({ host, port: this.port, noDelay: true });
    this.sockets.add(client);
    client.on('error', () => undefined); // a refused connection may reset; the tests read 'close'
    await once(client, 'connect');
    return client;
  }

  /** The next accepted connection, once the reader has decided. */
  async nextConnection(): Promise<DoorConnection> {
    await until(() => this.accepted.length > 0, 'a connection');
    return this.accepted.shift()!;
  }

  /** Writes, then waits until the server has read every byte written so far: the next write arrives in a later chunk. */
  async writeApart(client: Socket, bytes: Buffer): Promise<void> {
    const total = client.bytesWritten + bytes.length;
    client.write(bytes);
    await until(() => this.latest !== undefined && this.latest.bytesRead >= total, `the server to read ${total} bytes`);
  }

  async close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async serve(reader: ProxyHeaderReader, socket: Socket, options: LoopbackDoorOptions): Promise<DoorConnection> {
    this.sockets.add(socket);
    this.latest = socket;
    const headerChunks: Buffer[] = [];
    const reading = reader.read(socket);
    let decided = false;
    // Added after read(), so it neither starts the flow early nor sees the bytes before the reader.
    socket.on('data', (chunk: Buffer) => decided || headerChunks.push(chunk));
    const outcome = await reading;
    decided = true;
    if (!outcome.ok) {
      socket.destroy();
      return { socket, outcome, headerChunks, payload: Promise.resolve(Buffer.alloc(0)) };
    }
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const payload = new Promise<Buffer>((resolve) => socket.once('end', () => resolve(Buffer.concat(received))));
    if (!options.skipResume) {
      socket.resume();
    }
    return { socket, outcome, headerChunks, payload };
  }
}

/** Polls a condition every few milliseconds, failing with what was awaited after WAIT_LIMIT_MS. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
