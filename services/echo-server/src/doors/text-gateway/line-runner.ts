import { ErrorCodes, parseTextLine, Patterns, Transports, type RpcErrorEnvelope, type TextLine } from '@echo-pair/common';
import { GatewayContext } from '../../core/gateway-context';
import type { ChatMember } from './chat-member';
import type { ChatReply } from './chat-rooms.service';
import type { EncodingSetting, TextEncodingName } from '../text/text-codec';
import { isLocalCommand, runLocalCommand } from './local-commands';
import { parseContractCall } from '../text/contract-call';
import { decodeLine, errorLine } from '../text/text-line';
import { nowOrLater } from '../text/now-or-later';
import type { QueuedInput } from './line-input';
import type { TextGatewayHost } from './text-gateway-host';

/** What a `LineRunner` needs of its connection. */
export interface RunnerConnection {
  /** The connection's encoding now. */
  encodingNow(): EncodingSetting;
  /** The line detected the encoding of an `auto` connection, or `/encoding` switched it. */
  useEncoding(encoding: TextEncodingName): void;
  /** A reply line, in the connection's encoding. */
  write(line: string): undefined;
  /** `quit`: the connection ends once its replies are written. */
  close(): undefined;
}

/**
 * Runs the lines of one text connection: decodes each in its encoding, and answers it through the
 * handlers Nest registered (`host.call`, `/call`, `/emit`), the gateway's own commands, or its chat
 * room. A line is done at once when its handler's pipeline ran synchronously and its room does
 * not throttle it; else `handle` returns the promise of its end.
 */
export class LineRunner {
  private readonly chat: TextGatewayHost['chat'];
  private readonly settings: TextGatewayHost['settings'];

  constructor(
    private readonly host: TextGatewayHost,
    private readonly member: ChatMember,
    private readonly peer: string,
    private readonly connection: RunnerConnection,
  ) {
    this.chat = host.chat;
    this.settings = host.settings;
  }

  /** Handles one line; undefined when it is done, else the promise of its end (its reply is written then). */
  handle(input: QueuedInput): Promise<void> | undefined {
    switch (input.kind) {
      case 'too-long':
        return this.writeError({
          code: ErrorCodes.LINE_TOO_LONG,
          message: `the line is over ${this.host.settings.maxLineBytes} bytes; the rest of it is discarded`,
        });
      case 'incomplete':
        return this.writeError({ code: ErrorCodes.INVALID_TEXT, message: 'the line ended in the middle of a character' });
      case 'line': {
        const decoded = decodeLine(input.bytes, this.connection.encodingNow());
        if (!decoded.ok) {
          return this.writeError(decoded.error);
        }
        if (decoded.detected !== undefined) {
          this.connection.useEncoding(decoded.detected);
        }
        const call = parseContractCall(decoded.text);
        if (call === undefined) {
          return this.run(parseTextLine(decoded.text));
        }
        return nowOrLater(this.host.contractCall(call, this.peer), (reply) => this.connection.write(reply));
      }
    }
  }

  private run(line: TextLine): Promise<void> | undefined {
    switch (line.kind) {
      case 'empty':
        return undefined;
      case 'quit':
        this.connection.write('bye');
        return this.connection.close();
      case 'invalid':
        return this.writeError({ code: ErrorCodes.INVALID_COMMAND_ARGS, message: line.reason });
      case 'echo':
        if (this.chat.roomOf(this.member) !== undefined) {
          // Its room throttles it: meanwhile nothing is read.
          return this.whenClear(() => void this.chat.say(this.member, line.text));
        }
        return this.call(Patterns.ECHO, { text: line.text });
      case 'command':
        if (isLocalCommand(line.name)) {
          // /nick, /join and /leave speak to the room too.
          return this.whenClear(() =>
            this.writeChatReply(
              runLocalCommand(line.name, line.args, this.member, this.chat, this.settings.encoding, (encoding) =>
                this.connection.useEncoding(encoding),
              ),
            ),
          );
        }
        return this.call(Patterns.COMMAND, { name: line.name, args: line.args });
    }
  }

  /** Runs `then` once no member of the connection's room holds it back: at once, or when a promise settles. */
  private whenClear(then: () => void): Promise<void> | undefined {
    const wait = this.chat.whenClear(this.member);
    if (wait === undefined) {
      then();
      return undefined;
    }
    return wait.then(then);
  }

  private call(pattern: typeof Patterns.ECHO | typeof Patterns.COMMAND, data: object): Promise<void> | undefined {
    const outcome = this.host.call(pattern, data, new GatewayContext([pattern, Transports.TEXT, this.peer]));
    // An error: the exception filter counted it.
    return nowOrLater(outcome, (done) =>
      this.connection.write(done.ok ? this.host.replyText(pattern, data, done.response) : errorLine(done.error)),
    );
  }

  private writeChatReply(reply: ChatReply): void {
    if (reply.ok) {
      this.connection.write(reply.line);
    } else {
      this.writeError(reply.error);
    }
  }

  /** An error the gateway itself found (not a handler): counted like the handlers' errors. */
  private writeError(error: Pick<RpcErrorEnvelope, 'code' | 'message'>): undefined {
    this.host.countError(error.code);
    this.connection.write(errorLine(error));
    return undefined;
  }
}
