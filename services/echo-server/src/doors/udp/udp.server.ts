import { Logger } from '@nestjs/common';
import { createSocket, type RemoteInfo, type Socket as DgramSocket } from 'node:dgram';
import { isIP } from 'node:net';
import {
  ErrorCodes,
  parseTextLine,
  Patterns,
  Transports,
  udpReplyAllowance,
  type ErrorCode,
  type RequestPattern,
  type RpcErrorEnvelope,
  type UdpDropReason,
} from '@echo-pair/common';
import { GatewayContext } from '../../core/gateway-context';
import { GatewayServer } from '../gateway-server';
import { parseContractCall } from '../text/contract-call';
import { answerContractCall, type ContractDoor } from '../text/contract-reply';
import { nowOrLater } from '../text/now-or-later';
import { encodeText, type TextEncodingName } from '../text/text-codec';
import { decodeLine, errorLine } from '../text/text-line';
import { asPacket, opensLikeJson, peerOf, withoutLineEnd, type NestPacket } from './udp-datagram';
import { UdpKernelDrops } from './udp-kernel-drops';
import { packetReply, textReplyLine, withinAllowance } from './udp-reply';

export interface UdpServerOptions {
  host: string;
  port: number;
  maxDatagramBytes: number;
  /** SO_RCVBUF asked for once bound (Linux caps it at net.core.rmem_max); unset: the kernel's default. */
  receiveBufferBytes?: number;
  /** `false` (ECHO_FAST_PATH=false): stock Nest's route lookup. */
  fastPath?: boolean;
}

/** What the UDP endpoint reports to the rest of the server. */
export interface UdpServerHooks {
  datagram(): void;
  dropped(reason: UdpDropReason): void;
  replyTooLarge(): void;
  countError(code: ErrorCode): void;
}

/**
 * The UDP endpoint, a Nest custom transport strategy. A datagram holding one Nest packet as JSON
 * (`{"pattern","data","id"}`) gets one JSON reply datagram, as Nest's TCP transport would send it;
 * any other datagram is a text line with the text gateway's syntax (no chat, no session). Every
 * reply datagram, a REPLY_TOO_LARGE error that replaces a larger one included, is bounded by
 * `udpReplyAllowance` of its request, so that a spoofed source address cannot turn a small
 * datagram into a large one aimed at somebody else; a reply that cannot be is not sent.
 *
 * A datagram whose handler ran synchronously (`invoke` returned a `CallOutcome`, not a promise) is
 * answered within the socket's `message` event, before the next datagram is read; only a promise
 * suspends that datagram.
 */
export class UdpServer extends GatewayServer {
  override readonly transportId = Symbol('udp');
  protected override readonly logger = new Logger('Udp');
  private readonly socket: DgramSocket;
  private readonly kernelDrops: UdpKernelDrops;
  /** What `/call` and `/emit` lines run through: the handlers' Nest pipeline, as for every datagram. */
  private readonly door: ContractDoor = {
    transport: Transports.UDP,
    call: (pattern, data, context) => this.invoke(pattern, data, context),
    emit: (pattern, data, context) => this.deliverEvent(pattern, data, context),
    countError: (code) => this.hooks.countError(code),
  };
  /** Each send's callback, one function for all: a failed reply is logged. */
  private readonly afterSend = (error: Error | null): void => {
    if (error) {
      this.logger.warn(`reply not sent: ${error.message}`);
    }
  };
  /** What a datagram that failed past its checks is logged with (a bug: it must not stop the socket). */
  private readonly failed = (error: unknown): void => {
    this.logger.error(`datagram not answered: ${error instanceof Error ? error.message : String(error)}`);
  };

  constructor(
    private readonly options: UdpServerOptions,
    private readonly hooks: UdpServerHooks,
  ) {
    super(options.fastPath ?? true);
    const type = isIP(options.host) === 6 ? 'udp6' : 'udp4';
    this.socket = createSocket({ type });
    this.kernelDrops = new UdpKernelDrops(type, () => this.boundPort());
    this.socket.on('message', (message, sender) => {
      try {
        this.received(message, sender)?.catch(this.failed);
      } catch (error) {
        this.failed(error);
      }
    });
  }

  listen(callback: (error?: unknown) => void): void {
    const failed = (error: Error): void =>
      callback(new Error(`UDP endpoint cannot bind ${this.options.host}:${this.options.port}: ${error.message}`));
    this.socket.once('error', failed);
    this.socket.bind(this.options.port, this.options.host, () => {
      this.socket.off('error', failed);
      this.socket.on('error', (error) => this.logger.error(error.message));
      this.sizeReceiveBuffer();
      this._status$.next('connected');
      callback();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound, or closed already
      }
    });
  }

  // Nest's signature: listeners of the underlying server, whatever their arguments.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  on(event: string, callback: Function): void {
    this.socket.on(event, callback as (...args: unknown[]) => void);
  }

  unwrap<T>(): T {
    return this.socket as T;
  }

  /** SO_RCVBUF as the kernel reports it (Linux: twice what it granted, for its bookkeeping), or undefined before the socket is bound. */
  receiveBufferBytes(): number | undefined {
    try {
      return this.socket.getRecvBufferSize();
    } catch {
      return undefined;
    }
  }

  /** Datagrams the kernel dropped for this socket before they were read (its receive buffer full), where Linux tells; read when asked. */
  kernelDroppedDatagrams(): number | undefined {
    return this.kernelDrops.read();
  }

  /**
   * What the socket runs for each datagram (protected: a spec runs it): the reply is handed to the
   * socket, or the datagram dropped, before it returns when its handler ran synchronously; else it
   * returns the promise that settles once that is done.
   */
  protected received(message: Buffer, sender: RemoteInfo): Promise<void> | undefined {
    this.hooks.datagram();
    if (message.length === 0 || message.length > this.options.maxDatagramBytes) {
      this.hooks.dropped(message.length === 0 ? 'EMPTY' : 'TOO_LARGE');
      return undefined;
    }
    if (!opensLikeJson(message)) {
      return this.answerText(message, sender);
    }
    // A datagram that opens like JSON is a Nest packet or nothing: echoing a broken one would hide the mistake.
    const packet = asPacket(message);
    if (typeof packet === 'string') {
      this.hooks.dropped(packet);
      return undefined;
    }
    return this.answerPacket(packet, message.length, sender);
  }

  /** Replies to a Nest packet, or to nothing for an event. */
  private answerPacket(packet: NestPacket, requestBytes: number, sender: RemoteInfo): Promise<void> | undefined {
    const context = new GatewayContext([packet.pattern, Transports.UDP, peerOf(sender), packet.metadata]);
    const id = packet.id;
    if (id === undefined) {
      return this.dispatchEvent(packet.pattern, packet.data, context).then(NOTHING);
    }
    if (this.getHandlerByPattern(packet.pattern) === null) {
      this.sendWithin(packetReply(id, undefined), requestBytes, sender, id);
      return undefined;
    }
    const outcome = this.invoke(packet.pattern, packet.data, context);
    if (outcome instanceof Promise) {
      return outcome.then((settled) => this.sendWithin(packetReply(id, settled), requestBytes, sender, id));
    }
    this.sendWithin(packetReply(id, outcome), requestBytes, sender, id);
    return undefined;
  }

  /** Replies to a text line: the gateway's syntax, in the encoding the datagram was written in. */
  private answerText(message: Buffer, sender: RemoteInfo): Promise<void> | undefined {
    const decoded = decodeLine(withoutLineEnd(message), 'auto');
    if (!decoded.ok) {
      this.sendText(this.gatewayError(decoded.error), 'utf-8', message.length, sender);
      return undefined;
    }
    const encoding = decoded.detected ?? 'utf-8';
    const text = this.runLine(decoded.text, peerOf(sender));
    if (text instanceof Promise) {
      return text.then((line) => this.sendText(line, encoding, message.length, sender));
    }
    this.sendText(text, encoding, message.length, sender);
    return undefined;
  }

  /** The reply line to a text line, or undefined for none (an empty line); a promise of it while its handler runs. */
  private runLine(text: string, peer: string): string | undefined | Promise<string> {
    const call = parseContractCall(text);
    if (call !== undefined) {
      return answerContractCall(call, this.door, peer);
    }
    const line = parseTextLine(text);
    switch (line.kind) {
      case 'empty':
        return undefined;
      case 'quit':
        return 'bye';
      case 'invalid':
        return this.gatewayError({ code: ErrorCodes.INVALID_COMMAND_ARGS, message: line.reason, details: { command: '', usage: '' } });
      case 'echo':
        return this.runRequest(Patterns.ECHO, { text: line.text }, peer);
      case 'command':
        return this.runRequest(Patterns.COMMAND, { name: line.name, args: line.args }, peer);
    }
  }

  private runRequest(pattern: RequestPattern, request: object, peer: string): string | Promise<string> {
    const outcome = this.invoke(pattern, request, new GatewayContext([pattern, Transports.UDP, peer]));
    return nowOrLater(outcome, (settled) => textReplyLine(pattern, request, settled));
  }

  /** An error the endpoint found itself (the exception filter counts the handlers'). */
  private gatewayError(error: RpcErrorEnvelope): string {
    this.hooks.countError(error.code);
    return errorLine(error);
  }

  private sendText(text: string | undefined, encoding: TextEncodingName, requestBytes: number, sender: RemoteInfo): void {
    if (text !== undefined) {
      this.sendWithin(encodeText(`${text}\n`, encoding), requestBytes, sender, undefined);
    }
  }

  /** Sends `bytes`, or its REPLY_TOO_LARGE replacement, within the allowance of the request; else drops the reply (`packetId`: how the replacement is worded). */
  private sendWithin(bytes: Buffer, requestBytes: number, sender: RemoteInfo, packetId: string | undefined): void {
    const reply = withinAllowance(bytes, udpReplyAllowance(requestBytes), packetId);
    if (reply === undefined) {
      this.hooks.dropped('REPLY_OVER_ALLOWANCE');
      return;
    }
    if (reply !== bytes) {
      this.hooks.replyTooLarge();
    }
    this.socket.send(reply, sender.port, sender.address, this.afterSend);
  }

  /** Asks for `receiveBufferBytes` of SO_RCVBUF once bound; what the kernel granted is in the start-up line. */
  private sizeReceiveBuffer(): void {
    const asked = this.options.receiveBufferBytes;
    if (asked === undefined) {
      return;
    }
    try {
      this.socket.setRecvBufferSize(asked);
    } catch (error) {
      this.logger.warn(`receive buffer of ${asked} bytes not set: ${(error as Error).message}`);
    }
  }

  private boundPort(): number | undefined {
    try {
      return this.socket.address().port;
    } catch {
      return undefined; // not bound, or closed
    }
  }
}

function NOTHING(): void {}
