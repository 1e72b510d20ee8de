import { Logger } from '@nestjs/common';
import type { PacketMetadata } from '@nestjs/microservices';
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
import { replyTextOf, UDP_HELP } from '../text/reply-text';
import { decodeText, encodeText } from '../text/text-codec';
import { decodeLine, errorLine } from '../text/text-line';
import { boundedReply, type UdpAnswer } from './udp-reply';

export interface UdpServerOptions {
  host: string;
  port: number;
  maxDatagramBytes: number;
}

/** What the UDP endpoint reports to the rest of the server. */
export interface UdpServerHooks {
  datagram(): void;
  dropped(reason: UdpDropReason): void;
  replyTooLarge(): void;
  countError(code: ErrorCode): void;
}

/** Nest's reply to a request whose pattern has no handler, as its TCP transport words it. */
const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';
const OPENING_BRACE = 0x7b;

/**
 * The UDP endpoint, a Nest custom transport strategy. A datagram holding one Nest packet as JSON
 * (`{"pattern","data","id"}`) gets one JSON reply datagram, as Nest's TCP transport would send it;
 * any other datagram is a text line with the text gateway's syntax (no chat, no session). Every
 * reply datagram, a REPLY_TOO_LARGE error that replaces a larger one included, is bounded by
 * `udpReplyAllowance` of its request, so that a spoofed source address cannot turn a small
 * datagram into a large one aimed at somebody else; a reply that cannot be is not sent.
 */
export class UdpServer extends GatewayServer {
  override readonly transportId = Symbol('udp');
  protected override readonly logger = new Logger('Udp');
  private readonly socket: DgramSocket;
  /** What `/call` and `/emit` lines run through: the handlers' Nest pipeline, as for every datagram. */
  private readonly door: ContractDoor = {
    transport: Transports.UDP,
    call: (pattern, data, context) => this.invoke(pattern, data, context),
    emit: (pattern, data, context) => this.deliverEvent(pattern, data, context),
    countError: (code) => this.hooks.countError(code),
  };

  constructor(
    private readonly options: UdpServerOptions,
    private readonly hooks: UdpServerHooks,
  ) {
    super();
    this.socket = createSocket({ type: isIP(options.host) === 6 ? 'udp6' : 'udp4' });
    this.socket.on('message', (message, sender) => void this.received(message, sender));
  }

  listen(callback: (error?: unknown) => void): void {
    const failed = (error: Error): void =>
      callback(new Error(`UDP endpoint cannot bind ${this.options.host}:${this.options.port}: ${error.message}`));
    this.socket.once('error', failed);
    this.socket.bind(this.options.port, this.options.host, () => {
      this.socket.off('error', failed);
      this.socket.on('error', (error) => this.logger.error(error.message));
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

  /** What the socket runs for each datagram (protected: a spec awaits it); settles once the reply is handed to the socket or the datagram dropped. */
  protected async received(message: Buffer, sender: RemoteInfo): Promise<void> {
    this.hooks.datagram();
    if (message.length === 0 || message.length > this.options.maxDatagramBytes) {
      this.hooks.dropped(message.length === 0 ? 'EMPTY' : 'TOO_LARGE');
      return;
    }
    const peer = `${sender.family === 'IPv6' ? `[${sender.address}]` : sender.address}:${sender.port}`;
    let answer: UdpAnswer | undefined;
    if (message[firstNonSpace(message)] === OPENING_BRACE) {
      // A datagram that opens like JSON is a Nest packet or nothing: echoing a broken one would hide the mistake.
      const packet = asPacket(message);
      if (typeof packet === 'string') {
        this.hooks.dropped(packet);
        return;
      }
      answer = await this.answerPacket(packet, peer);
    } else {
      answer = await this.answerText(message, peer);
    }
    if (answer === undefined) {
      return;
    }
    const reply = boundedReply(answer, udpReplyAllowance(message.length));
    if (reply === undefined) {
      this.hooks.dropped('REPLY_OVER_ALLOWANCE');
      return;
    }
    if (reply.replaced) {
      this.hooks.replyTooLarge();
    }
    this.sendReply(reply.bytes, sender);
  }

  /** Replies to a Nest packet, or to nothing for an event. */
  private async answerPacket(packet: NestPacket, peer: string): Promise<UdpAnswer | undefined> {
    const context = new GatewayContext([packet.pattern, Transports.UDP, peer, packet.metadata]);
    if (packet.id === undefined) {
      await this.dispatchEvent(packet.pattern, packet.data, context);
      return undefined;
    }
    const id = packet.id;
    const outcome = this.getHandlerByPattern(packet.pattern) === null ? undefined : await this.invoke(packet.pattern, packet.data, context);
    const reply =
      outcome === undefined
        ? { id, err: NO_MESSAGE_HANDLER, isDisposed: true }
        : outcome.ok
          ? { id, response: outcome.response, isDisposed: true }
          : { id, err: outcome.error, isDisposed: true };
    return {
      bytes: Buffer.from(JSON.stringify(reply)),
      tooLarge: (error) => Buffer.from(JSON.stringify({ id, err: error, isDisposed: true })),
    };
  }

  /** Replies to a text line: the gateway's syntax, in the encoding the datagram was written in. */
  private async answerText(message: Buffer, peer: string): Promise<UdpAnswer | undefined> {
    const decoded = decodeLine(withoutLineEnd(message), 'auto');
    const encoding = decoded.ok && decoded.detected !== undefined ? decoded.detected : 'utf-8';
    const text = decoded.ok ? await this.runLine(decoded.text, peer) : this.gatewayError(decoded.error);
    if (text === undefined) {
      return undefined;
    }
    return { bytes: encodeText(`${text}\n`, encoding), tooLarge: (error) => Buffer.from(`${errorLine(error)}\n`) };
  }

  private async runLine(text: string, peer: string): Promise<string | undefined> {
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

  private async runRequest(pattern: RequestPattern, request: object, peer: string): Promise<string> {
    const outcome = await this.invoke(pattern, request, new GatewayContext([pattern, Transports.UDP, peer]));
    return outcome.ok ? replyTextOf(pattern, request, outcome.response, UDP_HELP) : errorLine(outcome.error);
  }

  /** An error the endpoint found itself (the exception filter counts the handlers'). */
  private gatewayError(error: RpcErrorEnvelope): string {
    this.hooks.countError(error.code);
    return errorLine(error);
  }

  private sendReply(bytes: Buffer, to: RemoteInfo): void {
    this.socket.send(bytes, to.port, to.address, (error) => {
      if (error) {
        this.logger.warn(`reply to ${to.address}:${to.port} not sent: ${error.message}`);
      }
    });
  }
}

interface NestPacket {
  pattern: string;
  data: unknown;
  id?: string;
  /** Out-of-band values of the packet (the client's trace context), as Nest TCP's packets carry them. */
  metadata?: PacketMetadata;
}

/**
 * The datagram as a Nest packet, if it is one: a JSON object with a string pattern (and, for a
 * request, a string id), in well-formed UTF-8. Else why it is dropped: decoding bad bytes as
 * U+FFFD would make each of them three bytes in the reply's id or echoed text.
 */
function asPacket(message: Buffer): NestPacket | UdpDropReason {
  const json = decodeText(message, 'utf-8');
  if (json === undefined) {
    return 'INVALID_UTF8';
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return 'NOT_A_PACKET';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'NOT_A_PACKET';
  }
  const { pattern, data, id, metadata } = value as Record<string, unknown>;
  if (typeof pattern !== 'string' || (id !== undefined && typeof id !== 'string')) {
    return 'NOT_A_PACKET';
  }
  const packet: NestPacket = id === undefined ? { pattern, data } : { pattern, data, id };
  // Metadata that is not an object is ignored, as a stock server would: it is out of band, never a reason to drop the call.
  if (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)) {
    packet.metadata = metadata as PacketMetadata;
  }
  return packet;
}

function firstNonSpace(message: Buffer): number {
  let index = 0;
  while (
    index < message.length &&
    (message[index] === 0x20 || message[index] === 0x09 || message[index] === 0x0a || message[index] === 0x0d)
  ) {
    index += 1;
  }
  return index;
}

/** A datagram is one line: a trailing `\n` or `\r\n`, as `nc -u` sends it, is not part of it. */
function withoutLineEnd(message: Buffer): Buffer {
  let end = message.length;
  if (message[end - 1] === 0x0a) {
    end -= 1;
    if (message[end - 1] === 0x0d) {
      end -= 1;
    }
  }
  return message.subarray(0, end);
}
