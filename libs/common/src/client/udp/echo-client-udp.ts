import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { ClientProxy, type MsPattern, type PacketId, type PacketMetadata, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { isTracingOn } from '../../transport/trace-context/tracing-state';
import type { DatagramProxy } from '../datagram-proxy';
import { isIdempotentRequest, type UdpOptions } from '../echo-client-options';
import { RpcClientError } from '../rpc-client.error';
import { encodeDatagram, parseReply } from '../../transport/udp-datagram';
import { UDP_MAX_RETRANSMIT_MS, udpSettings } from './udp-defaults';

export interface EchoClientUdpOptions extends UdpOptions {
  host: string;
  port: number;
}

/** Events of the datagram socket that `on()` listens to; the listeners move to every later socket, until `close()`. */
export interface UdpEvents {
  error: (error: Error) => void;
  message: (datagram: Buffer, remote: RemoteInfo) => void;
  close: () => void;
}

/** A request sent and not yet answered. */
interface PendingRequest {
  readonly callback: (packet: WritePacket) => void;
  readonly datagram: Buffer;
  readonly retransmit: boolean;
  nextDelayMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * The client side of the echo server's UDP endpoint: each Nest packet is one JSON datagram
 * (see `encodeDatagram`), each reply one JSON datagram with the request's id, on a socket
 * connected to the server's address. Idempotent requests are sent again, the same datagram with
 * the same id, until a reply arrives or the call is unsubscribed; other requests and events are
 * sent once. Its `status` is `connected` once the socket is, `disconnected` after a socket error or `close()`.
 */
export class EchoClientUdp extends ClientProxy<UdpEvents> implements DatagramProxy {
  readonly maxDatagramBytes: number;
  private readonly logger = new Logger(EchoClientUdp.name);
  private readonly retransmitAfterMs: number;
  private readonly pending = new Map<string, PendingRequest>();
  private socket: Socket | null = null;
  private connection: Promise<void> | null = null;
  /** Counts `close()`s and drops: a connect under way when it changes is abandoned. */
  private generation = 0;
  private listeners: Array<{ event: keyof UdpEvents; callback: UdpEvents[keyof UdpEvents] }> = [];

  constructor(private readonly options: EchoClientUdpOptions) {
    super();
    const { maxDatagramBytes, retransmitAfterMs } = udpSettings(options);
    this.maxDatagramBytes = maxDatagramBytes;
    this.retransmitAfterMs = retransmitAfterMs;
  }

  /**
   * Resolves the host, then binds a socket of its address family and connects it; nothing is sent.
   * With tracing on, in the root context: the socket outlives the call that opened it.
   */
  connect(): Promise<void> {
    if (this.connection === null) {
      const opened = isTracingOn() ? context.with(ROOT_CONTEXT, () => this.open()) : this.open();
      const connection: Promise<void> = opened.catch((error: unknown) => {
        if (this.connection === connection) {
          this.connection = null;
        }
        throw error;
      });
      this.connection = connection;
    }
    return this.connection;
  }

  /** Closes the socket; the requests still waiting for a reply fail as on a closed TCP connection. */
  close(): void {
    this.disconnect(connectionClosed());
    this.listeners = [];
  }

  override on<K extends keyof UdpEvents = keyof UdpEvents, C extends UdpEvents[K] = UdpEvents[K]>(event: K, callback: C): void {
    this.listeners.push({ event, callback });
    if (this.socket !== null) {
      listen(this.socket, event, callback);
    }
  }

  unwrap<T>(): T {
    if (this.socket === null) {
      throw new Error('Not initialized. Please call the "connect" method first.');
    }
    return this.socket as unknown as T;
  }

  protected override assignPacketId(packet: ReadPacket): ReadPacket & PacketId {
    return Object.assign(packet, { id: randomUUID() });
  }

  protected publish(partialPacket: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    try {
      const socket = this.socket;
      if (socket === null) {
        throw connectionClosed();
      }
      const packet = this.assignPacketId(partialPacket);
      const pattern = this.normalizePattern(packet.pattern as MsPattern);
      const data: unknown = packet.data;
      const id = packet.id;
      const request: PendingRequest = {
        callback,
        datagram: this.encode(pattern, data, id, packet.metadata),
        retransmit: isIdempotentRequest(pattern, data),
        nextDelayMs: this.retransmitAfterMs,
      };
      this.pending.set(id, request);
      this.transmit(socket, id, request);
      return () => this.forget(id);
    } catch (error: unknown) {
      callback({ err: error });
      return () => undefined;
    }
  }

  protected dispatchEvent<T = unknown>(packet: ReadPacket): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const socket = this.socket;
      if (socket === null) {
        throw connectionClosed();
      }
      socket.send(
        this.encode(this.normalizePattern(packet.pattern as MsPattern), packet.data as unknown, undefined, packet.metadata),
        (error) => (error ? reject(error) : resolve(undefined as T)),
      );
    });
  }

  private async open(): Promise<void> {
    const generation = this.generation;
    // IPv4 first: UDP cannot try both families as TCP's happy eyeballs does, and servers bind 0.0.0.0 by default.
    const { address, family } = await lookup(this.options.host, { order: 'ipv4first' });
    if (generation !== this.generation) {
      throw connectionClosed();
    }
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    let failed: (error: Error) => void = () => undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        failed = reject;
        socket.once('error', failed);
        socket.bind(0, () => socket.connect(this.options.port, address, (error?: Error) => (error ? reject(error) : resolve())));
      });
    } catch (error: unknown) {
      closeQuietly(socket);
      throw error;
    } finally {
      socket.off('error', failed);
    }
    if (generation !== this.generation) {
      closeQuietly(socket);
      throw connectionClosed();
    }
    socket.on('error', (error: NodeJS.ErrnoException) => this.drop(socket, error));
    socket.on('message', (datagram: Buffer) => this.receive(datagram));
    this.listeners.forEach(({ event, callback }) => listen(socket, event, callback));
    this.socket = socket;
    this._status$.next('connected');
  }

  /** The datagram of a request (with `id`) or an event; refused with `NOT_SENT` when it exceeds `maxDatagramBytes`. */
  private encode(pattern: string, data: unknown, id?: string, metadata?: PacketMetadata): Buffer {
    const datagram = encodeDatagram(pattern, data, id, metadata);
    if (datagram.length > this.maxDatagramBytes) {
      throw new RpcClientError({
        code: 'NOT_SENT',
        message: `not sent: the "${pattern}" ${id === undefined ? 'event' : 'request'} takes ${datagram.length} bytes, too large for a datagram (maxDatagramBytes ${this.maxDatagramBytes}); send it over TCP`,
        pattern,
      });
    }
    return datagram;
  }

  /** Sends the request's datagram, and for an idempotent request schedules the same datagram again. */
  private transmit(socket: Socket, id: string, request: PendingRequest): void {
    socket.send(request.datagram, (error) => {
      if (error && this.pending.get(id) === request) {
        this.forget(id);
        request.callback({ err: error });
      }
    });
    if (request.retransmit) {
      request.timer = setTimeout(() => {
        if (this.pending.get(id) === request && this.socket === socket) {
          this.transmit(socket, id, request);
        }
      }, request.nextDelayMs);
      request.nextDelayMs = Math.min(2 * request.nextDelayMs, Math.max(UDP_MAX_RETRANSMIT_MS, this.retransmitAfterMs));
    }
  }

  /** Routes a reply to its request in the tick it arrives in; anything else is ignored, as is a second reply to a settled request. */
  private receive(datagram: Buffer): void {
    const reply = parseReply(datagram);
    const request = reply === undefined ? undefined : this.pending.get(reply.id);
    if (reply === undefined || request === undefined) {
      return;
    }
    if (reply.isDisposed || reply.err) {
      this.forget(reply.id);
      request.callback({ err: reply.err, response: reply.response, isDisposed: true });
      return;
    }
    // A partial reply: the server has the request, so it is not sent again.
    clearTimeout(request.timer);
    request.callback({ err: reply.err, response: reply.response });
  }

  private forget(id: string): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
  }

  /** A socket error ends the socket, as an error ends a TCP connection: the keeper sees `disconnected` and reconnects. */
  private drop(socket: Socket, error: NodeJS.ErrnoException): void {
    if (socket !== this.socket) {
      return;
    }
    this.disconnect(this.failureOf(error));
  }

  private disconnect(failure: Error): void {
    const socket = this.socket;
    this.generation += 1;
    this.socket = null;
    this.connection = null;
    const requests = [...this.pending.values()];
    this.pending.clear();
    for (const request of requests) {
      clearTimeout(request.timer);
      try {
        request.callback({ err: failure });
      } catch (callbackError: unknown) {
        // A failing callback must not keep the remaining requests pending.
        this.logger.error(callbackError);
      }
    }
    if (socket !== null) {
      closeQuietly(socket);
      this._status$.next('disconnected');
    }
  }

  /**
   * What the requests in flight fail with when the socket errs. ICMP port or host unreachable
   * says that nothing answers there: `CONNECTION_FAILED` (through the error mapper, by its code).
   * Anything else is a lost connection: the request may or may not have been handled.
   */
  private failureOf(error: NodeJS.ErrnoException): Error {
    if (error.code === 'ECONNREFUSED' || error.code === 'EHOSTUNREACH') {
      const why = error.code === 'ECONNREFUSED' ? 'port unreachable: nothing listens there' : 'host unreachable';
      return Object.assign(new Error(`${this.target()}/udp ${why} (${error.code})`, { cause: error }), { code: error.code });
    }
    return connectionClosed(error);
  }

  private target(): string {
    return `${this.options.host}:${this.options.port}`;
  }
}

/** What ClientTCP fails the requests in flight with when its connection closes; the error mapper knows it. */
function connectionClosed(cause?: unknown): Error {
  return new Error('Connection closed', { cause });
}

function listen(socket: Socket, event: keyof UdpEvents, callback: UdpEvents[keyof UdpEvents]): void {
  (socket as EventEmitter).on(event, callback);
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // closed already
  }
}
