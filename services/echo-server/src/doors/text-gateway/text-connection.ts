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
import { encodeText, encodeTextShared, type EncodingSetting } from '../text/text-codec';
import { isLocalCommand, runLocalCommand } from './local-commands';
import { parseContractCall } from '../text/contract-call';
import { decodeLine, errorLine } from '../text/text-line';
import type { AdmittedConnection } from '../admission/connection-admission';
import { LineInput, type LineReader, type QueuedInput } from './line-input';
import type { TextGatewayHost } from './text-gateway-host';

/** Lines read ahead of the one being handled; past it the socket is paused (TCP flow control does the rest). */
const MAX_QUEUED_LINES = 64;

/**
/**
 * One text-gateway connection: its bytes become lines (`LineInput`), its lines run one at a time
 * through the same handlers as every other transport, no faster than the peer reads the replies,
 * which go back in its own encoding; and it is a chat member (`member`). Its timers: the welcome,
 * and the idle timeout, which only complete lines restart (its door's `place` holds the time of the last).
 */
export class TextConnection implements LineReader {
  private readonly member: TextChatMember;
  private readonly input: LineInput;
  private readonly queue: QueuedInput[] = [];
  private encoding: EncodingSetting;
  private spoken = false;
  private busy = false;
  private corked = false;
  private closing = false;
  private welcomeTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly peer: string,
    private readonly host: TextGatewayHost,
    private readonly place: AdmittedConnection,
  ) {
    const { settings } = host;
    this.encoding = settings.encoding;
    this.input = new LineInput(settings, this);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => {
      void this.pump();
      this.resumeIfReady();
    });
    socket.on('error', () => undefined); // a reset peer; 'close' follows and cleans up
    socket.once('close', () => this.closed());
    this.armIdleTimer(settings.idleTimeoutMs);
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

  /** Its door is full and this connection has been idle the longest: it makes room for a newcomer. */
  giveWay(setting: string): void {
    this.write(`bye: the server is at ${setting} and this connection was idle the longest`);
    this.close();
  }

  private cutOff(reason: string): void {
    this.host.logger.warn(`text connection #${this.id} from ${this.peer} cut off: ${reason}`);
    this.closing = true;
    this.socket.destroy();
  }

  encodingNow(): EncodingSetting {
    return this.encoding;
  }

  room(): number {
    return MAX_QUEUED_LINES - this.queue.length;
  }

  quiet(): boolean {
    return !this.busy && this.queue.length === 0 && !this.socket.isPaused() && !this.closing;
  }

  enqueue(input: QueuedInput): void {
    this.queue.push(input); // at most MAX_QUEUED_LINES: the input splits no more than `room()` lines
    void this.pump();
  }

  lineEnded(): void {
    this.place.lastActive = performance.now();
  }

  lineTimedOut(): void {
    const seconds = this.host.settings.lineTimeoutMs / 1000;
    const message = `TEXT_LINE_TIMEOUT_MS: the line was not complete ${seconds} s after its first byte`;
    this.write(errorLine({ code: ErrorCodes.LIMIT_REACHED, message }));
    this.host.closedByDoor('TEXT_LINE_TIMEOUT_MS', this.peer, `a line incomplete ${seconds} s after its first byte`);
    this.close();
  }

  private received(chunk: Buffer): void {
    if (this.closing) {
      return;
    }
    if (!this.spoken) {
      this.spoken = true;
      clearTimeout(this.welcomeTimer);
    }
    this.input.push(chunk);
    if (this.input.backlogged) {
      this.socket.pause();
    }
  }

  private async pump(): Promise<void> {
    if (this.busy) {
      return;
    }
    this.busy = true;
    try {
      // No further line while the replies wait for the peer: what it does not read, it cannot make the server hold.
      while (this.queue.length > 0 && !this.closing && !this.socket.writableNeedDrain) {
        await this.handle(this.queue.shift()!);
      }
    } finally {
      this.busy = false;
      if (this.input.backlogged) {
        // The rest of a read waits a turn of the event loop: other connections are served between batches of lines.
        setImmediate(() => {
          this.input.split();
          this.resumeIfReady();
        });
      } else {
        this.input.split();
        this.resumeIfReady();
      }
    }
  }

  /** Reads on once the queue is short, no chunk waits to be split and the peer is reading its replies. */
  private resumeIfReady(): void {
    const ready = this.queue.length < MAX_QUEUED_LINES && !this.input.backlogged && !this.socket.writableNeedDrain;
    if (!this.closing && ready && this.socket.isPaused()) {
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
    const encoding = this.encoding === 'auto' ? 'utf-8' : this.encoding;
    this.socket.write(taken === undefined ? encodeText(`${line}\n`, encoding) : encodeTextShared(`${line}\n`, encoding), taken);
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

  /** Closes the connection once it has sent no complete line for `idleTimeoutMs` (checked when due, not moved per line). */
  private armIdleTimer(delayMs: number): void {
    const { idleTimeoutMs } = this.host.settings;
    if (idleTimeoutMs === 0 || this.closing) {
      return;
    }
    this.idleTimer = setTimeout(() => {
      const idleMs = performance.now() - this.place.lastActive;
      if (idleMs < idleTimeoutMs) {
        this.armIdleTimer(idleTimeoutMs - idleMs);
        return;
      }
      this.write(`bye: nothing received for ${Math.round(idleTimeoutMs / 1000)} s`);
      this.close();
    }, delayMs);
  }

  private close(): void {
    this.closing = true;
    this.socket.end();
    void destroyUnlessClosed(this.socket, CLOSE_GRACE_MS);
  }

  private closed(): void {
    this.closing = true;
    this.input.close();
    clearTimeout(this.idleTimer);
    clearTimeout(this.welcomeTimer);
    this.queue.length = 0;
    this.host.chat.exit(this.member, 'disconnected');
  }
}
