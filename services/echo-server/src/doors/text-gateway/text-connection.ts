import type { Socket } from 'node:net';
import {
  CLOSE_GRACE_MS,
  destroyUnlessClosed,
  ErrorCodes,
  parseTextLine,
  Patterns,
  Transports,
  type RpcErrorEnvelope,
  type TextLine,
} from '@echo-pair/common';
import { GatewayContext } from '../../core/gateway-context';
import { TextChatMember } from './text-chat-member';
import type { ChatReply } from './chat-rooms.service';
import { LineSplitter, type SplitEvent } from '../text/line-splitter';
import { encodeText, type EncodingSetting } from '../text/text-codec';
import { isLocalCommand, runLocalCommand } from './local-commands';
import { parseContractCall } from '../text/contract-call';
import { bytesToHold, continuesCharacter, decodeLine, errorLine } from '../text/text-line';
import type { TextGatewayHost } from './text-gateway-host';

/** Lines read ahead of the one being handled; past it the socket is paused (TCP flow control does the rest). */
const MAX_QUEUED_LINES = 64;
/** How long a trailing half character may wait for its other bytes, in multiples of the idle flush. */
const INCOMPLETE_CHARACTER_FLUSHES = 30;

type QueuedInput = SplitEvent | { kind: 'incomplete' };

/**
 * One text-gateway connection: its bytes become lines, its lines run one at a time through the
 * same handlers as every other transport, its replies go back in its own encoding, and it is
 * a chat member (`member`). The welcome, the idle flush of a partial line and the idle timeout are its timers.
 */
export class TextConnection {
  private readonly member: TextChatMember;
  private readonly splitter: LineSplitter;
  private readonly queue: QueuedInput[] = [];
  private encoding: EncodingSetting;
  private spoken = false;
  private busy = false;
  private corked = false;
  private closing = false;
  private flushTimer: NodeJS.Timeout | undefined;
  /** The start of a character that a flush kept back for the next read. */
  private heldTail: Buffer | undefined;
  private welcomeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly peer: string,
    private readonly host: TextGatewayHost,
  ) {
    const { settings } = host;
    this.encoding = settings.encoding;
    this.splitter = new LineSplitter({ maxLineBytes: settings.maxLineBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => this.resumeIfReady());
    socket.on('error', () => undefined); // a reset peer; 'close' follows and cleans up
    socket.once('close', () => this.closed());
    if (settings.idleTimeoutMs > 0) {
      socket.setTimeout(settings.idleTimeoutMs, () => this.idleTimedOut());
    }
    this.member = new TextChatMember(id, socket, settings, host.chat, {
      write: (line, taken) => this.write(line, taken),
      cutOff: (reason) => this.cutOff(reason),
    });
    host.chat.enter(this.member);
    this.welcomeTimer = setTimeout(() => {
      this.welcomeTimer = undefined;
      if (!this.spoken) {
        this.write(host.welcome());
      }
    }, settings.welcomeDelayMs);
  }

  private cutOff(reason: string): void {
    this.host.logger.warn(`text connection #${this.id} from ${this.peer} cut off: ${reason}`);
    this.closing = true;
    this.socket.destroy();
  }

  private received(chunk: Buffer): void {
    if (this.closing) {
      return;
    }
    if (!this.spoken) {
      this.spoken = true;
      clearTimeout(this.welcomeTimer);
    }
    if (this.heldTail !== undefined) {
      const held = this.heldTail;
      this.heldTail = undefined;
      if (!continuesCharacter(held, chunk, this.encoding)) {
        this.splitter.reset();
        this.enqueue({ kind: 'incomplete' });
      }
    }
    for (const event of this.splitter.push(chunk)) {
      this.enqueue(event);
    }
    this.armFlush();
  }

  /**
   * Starts the idle flush of a partial line, but only while the peer is really silent: not while
   * lines wait or run (their handling may outlast the flush delay) nor while reading is paused,
   * when the rest of the line may be waiting unread.
   */
  private armFlush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.splitter.pendingBytes === 0 || this.busy || this.queue.length > 0 || this.socket.isPaused() || this.closing) {
      return;
    }
    // setImmediate after the timer: bytes the kernel already holds are read before the partial line is taken as whole.
    const timer = setTimeout(() => setImmediate(() => this.flushIfStillSilent(timer)), this.host.settings.idleFlushMs);
    this.flushTimer = timer;
  }

  private flushIfStillSilent(timer: NodeJS.Timeout): void {
    if (this.flushTimer === timer && this.splitter.pendingBytes > 0 && !this.busy && this.queue.length === 0) {
      this.flushPartial();
    }
  }

  /** The peer paused mid-line: the tutorials' clients send a string without a newline and wait for the reply. */
  private flushPartial(): void {
    this.flushTimer = undefined;
    const line = this.splitter.flushPartial((bytes) => {
      const hold = bytesToHold(bytes, this.encoding);
      this.heldTail = hold === 0 ? undefined : Buffer.from(bytes.subarray(bytes.length - hold));
      return hold;
    });
    if (line !== undefined) {
      this.enqueue({ kind: 'line', bytes: line });
    }
    if (this.splitter.pendingBytes > 0) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        this.heldTail = undefined;
        this.splitter.reset();
        this.enqueue({ kind: 'incomplete' });
      }, this.host.settings.idleFlushMs * INCOMPLETE_CHARACTER_FLUSHES);
    }
  }

  private enqueue(input: QueuedInput): void {
    this.queue.push(input);
    if (this.queue.length >= MAX_QUEUED_LINES) {
      this.socket.pause();
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) {
      return;
    }
    this.busy = true;
    try {
      for (let input = this.queue.shift(); input !== undefined && !this.closing; input = this.queue.shift()) {
        await this.handle(input);
      }
    } finally {
      this.busy = false;
      this.resumeIfReady();
      this.armFlush();
    }
  }

  /** Reads on once the queue is short and the peer is reading its replies. */
  private resumeIfReady(): void {
    if (!this.closing && this.queue.length < MAX_QUEUED_LINES && !this.socket.writableNeedDrain && this.socket.isPaused()) {
      this.socket.resume();
    }
  }

  private async handle(input: QueuedInput): Promise<void> {
    switch (input.kind) {
      case 'too-long':
        return this.writeError({
          code: ErrorCodes.LINE_TOO_LONG,
          message: `the line is over ${this.host.settings.maxLineBytes} bytes; the rest of it is discarded`,
        });
      case 'incomplete':
        return this.writeError({ code: ErrorCodes.INVALID_TEXT, message: 'the line ended in the middle of a character' });
      case 'line': {
        const decoded = decodeLine(input.bytes, this.encoding);
        if (!decoded.ok) {
          return this.writeError(decoded.error);
        }
        if (decoded.detected !== undefined) {
          this.encoding = decoded.detected;
        }
        const call = parseContractCall(decoded.text);
        return call === undefined ? this.run(parseTextLine(decoded.text)) : this.write(await this.host.contractCall(call, this.peer));
      }
    }
  }

  private async run(line: TextLine): Promise<void> {
    switch (line.kind) {
      case 'empty':
        return;
      case 'quit':
        this.write('bye');
        return this.close();
      case 'invalid':
        return this.writeError({ code: ErrorCodes.INVALID_COMMAND_ARGS, message: line.reason });
      case 'echo':
        if (this.host.chat.roomOf(this.member) !== undefined) {
          await this.host.chat.whenClear(this.member); // its room throttles it: meanwhile nothing is read
          this.host.chat.say(this.member, line.text);
          return;
        }
        return this.call(Patterns.ECHO, { text: line.text });
      case 'command':
        if (isLocalCommand(line.name)) {
          await this.host.chat.whenClear(this.member); // /nick, /join and /leave speak to the room too
          return this.writeChatReply(
            runLocalCommand(line.name, line.args, this.member, this.host.chat, this.host.settings.encoding, (encoding) => {
              this.encoding = encoding;
            }),
          );
        }
        return this.call(Patterns.COMMAND, { name: line.name, args: line.args });
    }
  }

  private async call(pattern: typeof Patterns.ECHO | typeof Patterns.COMMAND, data: object): Promise<void> {
    const outcome = await this.host.call(pattern, data, new GatewayContext([pattern, Transports.TEXT, this.peer]));
    // An error: the exception filter counted it.
    this.write(outcome.ok ? this.host.replyText(pattern, data, outcome.response) : errorLine(outcome.error));
  }

  private writeChatReply(reply: ChatReply): void {
    if (reply.ok) {
      this.write(reply.line);
    } else {
      this.writeError(reply.error);
    }
  }

  /** An error the gateway itself found (not a handler): counted like the handlers' errors. */
  private writeError(error: Pick<RpcErrorEnvelope, 'code' | 'message'>): void {
    this.host.countError(error.code);
    this.write(errorLine(error));
  }

  private write(line: string, taken?: (error?: Error | null) => void): void {
    if (this.closing || this.socket.writableEnded || this.socket.destroyed) {
      return;
    }
    if (!this.corked) {
      // Replies to lines that arrived together leave in one write rather than one syscall each; a slow
      // command (sleep) lets the event loop turn, so replies before it are not held back.
      this.corked = true;
      this.socket.cork();
      setImmediate(() => this.uncork());
    }
    this.socket.write(encodeText(`${line}\n`, this.encoding === 'auto' ? 'utf-8' : this.encoding), taken);
    if (taken !== undefined) {
      this.uncork(); // a chat line: its member is judged by what the kernel has not taken, and corked bytes are not unread
    }
    if (this.socket.writableNeedDrain) {
      this.socket.pause();
    }
  }

  private uncork(): void {
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
  }

  private idleTimedOut(): void {
    this.write(`bye: nothing received for ${Math.round(this.host.settings.idleTimeoutMs / 1000)} s`);
    this.close();
  }

  private close(): void {
    this.closing = true;
    this.socket.end();
    void destroyUnlessClosed(this.socket, CLOSE_GRACE_MS);
  }

  private closed(): void {
    this.closing = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.welcomeTimer);
    this.queue.length = 0;
    this.host.chat.exit(this.member, 'disconnected');
  }
}
