import { type ErrorCode, type EventPattern, type RequestPattern, type SocketRejection, Transports } from '@echo-pair/common';
import { Logger } from '@nestjs/common';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { AdmissionReport } from '../../core/connection-refusal';
import { ConnectionGate } from '../admission/connection-gate';
import { LISTEN_BACKLOG } from '../admission/listen-backlog';
import type { ProxyHeaderReader } from '../proxy-protocol/proxy-header-reader';
import { withClientAddress } from '../proxy-protocol/with-client-address';
import { encodeText } from '../text/text-codec';
import { errorLine } from '../text/text-line';
import { GatewayServer, type OutcomeNowOrLater } from '../gateway-server';
import type { GatewayContext } from '../../core/gateway-context';
import type { ChatRooms } from './chat-rooms.service';
import type { ContractCall } from '../text/contract-call';
import { answerContractCall, type ContractDoor } from '../text/contract-reply';
import { replyTextOf, TEXT_GATEWAY_HELP } from '../text/reply-text';
import { TextConnection } from './text-connection';
import type { TextGatewayHost, TextGatewaySettings } from './text-gateway-host';

export interface TextGatewayOptions extends TextGatewaySettings {
  host: string;
  port: number;
  /** At the cap, the connection idle longest gives way to a newcomer. */
  maxConnections: number;
  /** Connections one address (an IPv6 /64) may hold; 0: no limit. */
  maxConnectionsPerAddress: number;
  /** With PROXY_PROTOCOL: reads the header of trusted proxies' connections; limits and logs then go by the client it names. */
  proxyHeaders?: ProxyHeaderReader;
  /** ECHO_FAST_PATH (true unless given): false, Nest's own handler lookup (`getHandlerByPattern`) runs. */
  fastPath?: boolean;
}

/** What the gateway reports to the rest of the server, without depending on it. */
export interface TextGatewayHooks extends AdmissionReport {
  /** A connection was admitted; returns its number. */
  opened(socket: Socket): number;
  /** A connection refused because of its PROXY header (PROXY_HEADER_REFUSED). */
  rejected(rejection: SocketRejection): void;
  /** A connection closed by the door for one of its limits (a line deadline). */
  closedByDoor(reason: string, peer: string, detail: string): void;
  countError(code: ErrorCode): void;
  welcome(): string;
}

/**
 * The plain-text TCP gateway, a Nest custom transport strategy: tutorial clients, `nc` and chat
 * speak lines to the same controllers, guards, pipes and filters as Nest's TCP transport serves.
 */
export class TextGatewayServer extends GatewayServer implements TextGatewayHost, ContractDoor {
  readonly transport = Transports.TEXT;
  override readonly transportId = Symbol('text-gateway');
  override readonly logger = new Logger('TextGateway');
  readonly settings: TextGatewaySettings;
  private readonly server: NetServer;
  private readonly sockets = new Set<Socket>();
  private readonly gate: ConnectionGate;

  constructor(
    private readonly options: TextGatewayOptions,
    readonly chat: ChatRooms,
    private readonly hooks: TextGatewayHooks,
  ) {
    super(options.fastPath ?? true);
    const {
      host: _host,
      port: _port,
      maxConnections,
      maxConnectionsPerAddress,
      proxyHeaders: _proxyHeaders,
      fastPath: _fastPath,
      ...settings
    } = options;
    this.settings = settings;
    this.server = createServer((socket) => this.accept(socket));
    this.gate = new ConnectionGate({
      transport: 'text',
      maxConnections,
      maxPerAddress: maxConnectionsPerAddress,
      capSetting: 'TEXT_MAX_CONNECTIONS',
      report: hooks,
      // SMTP's 421 for a line client: why, before the close; plain ASCII, readable in any encoding.
      refusalLine: ({ limit, max, address }) =>
        encodeText(
          `${errorLine({ code: 'LIMIT_REACHED', message: `${limit}: ${max} connections from ${address} are open; try again later` })}\n`,
          'utf-8',
        ),
    });
  }

  listen(callback: (error?: unknown) => void): void {
    const failed = (error: Error): void =>
      callback(new Error(`text gateway cannot listen on ${this.options.host}:${this.options.port}: ${error.message}`));
    this.server.once('error', failed);
    this.server.listen({ port: this.options.port, host: this.options.host, backlog: LISTEN_BACKLOG }, () => {
      this.server.off('error', failed);
      this.server.on('error', (error) => this.logger.error(error.message));
      this._status$.next('connected');
      callback();
    });
  }

  /** Stops listening and destroys the connections still open (a drain has ended them gracefully before). */
  close(): Promise<void> {
    this.sockets.forEach((socket) => socket.destroy());
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      this.server.close(() => resolve());
    });
  }

  // Nest's signature: listeners of the underlying server, whatever their arguments.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  on(event: string, callback: Function): void {
    this.server.on(event, callback as (...args: unknown[]) => void);
  }

  unwrap<T>(): T {
    return this.server as T;
  }

  welcome(): string {
    return this.hooks.welcome();
  }

  call(pattern: RequestPattern, data: unknown, context: GatewayContext): OutcomeNowOrLater {
    return this.invoke(pattern, data, context);
  }

  emit(pattern: EventPattern, data: unknown, context: GatewayContext): OutcomeNowOrLater {
    return this.deliverEvent(pattern, data, context);
  }

  contractCall(call: ContractCall, peer: string): string | Promise<string> {
    return answerContractCall(call, this, peer);
  }

  replyText(pattern: RequestPattern, request: object, response: unknown): string {
    return replyTextOf(pattern, request, response, TEXT_GATEWAY_HELP);
  }

  countError(code: ErrorCode): void {
    this.hooks.countError(code);
  }

  closedByDoor(reason: string, peer: string, detail: string): void {
    this.hooks.closedByDoor(reason, peer, detail);
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    withClientAddress(
      socket,
      this.options.proxyHeaders,
      (address, peer) => this.serve(socket, address, peer),
      (peer, detail) => this.hooks.rejected({ reason: 'PROXY_HEADER_REFUSED', peer, detail }),
    );
  }

  /** Admits the connection from `address` (refused, it gets its line) and serves it. */
  private serve(socket: Socket, address: string | undefined, peer: string): void {
    // The connection is made once admitted; the eviction callback runs later, if ever.
    const made: { connection?: TextConnection } = {};
    const place = this.gate.admit(socket, () => made.connection?.giveWay('TEXT_MAX_CONNECTIONS'), address, peer);
    if (place === undefined) {
      return;
    }
    const id = this.hooks.opened(socket);
    made.connection = new TextConnection(socket, id, peer, this, place);
  }
}
