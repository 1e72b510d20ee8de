import { ErrorCodes } from '@echo-pair/common';
import type { ChatMember } from './chat-member';
import type { ChatReply, ChatRooms } from './chat-rooms.service';
import { TEXT_GATEWAY_COMMANDS } from '../text/reply-text';
import { parseEncodingName, type EncodingSetting, type TextEncodingName } from '../text/text-codec';

const LOCAL_COMMANDS: ReadonlySet<string> = new Set(TEXT_GATEWAY_COMMANDS.map((command) => command.name));

/** Whether `/name` is one of the gateway's own commands rather than a `command` pattern's. */
export function isLocalCommand(name: string): boolean {
  return LOCAL_COMMANDS.has(name);
}

/**
 * The text gateway's own commands (`/nick`, `/join`, `/leave`, `/who`, `/encoding`), run by the
 * connection itself rather than by a handler; `setEncoding` switches the connection's encoding.
 */
export function runLocalCommand(
  name: string,
  args: string[],
  member: ChatMember,
  chat: ChatRooms,
  portEncoding: EncodingSetting,
  setEncoding: (encoding: TextEncodingName) => void,
): ChatReply {
  switch (name) {
    case 'nick':
      return args.length === 1 ? chat.setNick(member, args[0]) : chat.setNick(member, undefined);
    case 'join':
      return args.length === 1 ? chat.join(member, args[0]) : chat.join(member, undefined);
    case 'leave':
      return chat.leave(member);
    case 'who':
      return chat.who(member);
    default:
      return switchEncoding(args, portEncoding, setEncoding);
  }
}

function switchEncoding(args: string[], portEncoding: EncodingSetting, setEncoding: (encoding: TextEncodingName) => void): ChatReply {
  const usage = { command: 'encoding', usage: 'encoding <utf-8|gbk>' };
  if (portEncoding !== 'auto') {
    return {
      ok: false,
      error: { code: ErrorCodes.INVALID_COMMAND_ARGS, message: `encoding: fixed to ${portEncoding} on this port`, details: usage },
    };
  }
  const encoding = args.length === 1 ? parseEncodingName(args[0]) : undefined;
  if (encoding === undefined) {
    return { ok: false, error: { code: ErrorCodes.INVALID_COMMAND_ARGS, message: 'encoding: expects utf-8 or gbk', details: usage } };
  }
  setEncoding(encoding);
  return { ok: true, line: `* encoding ${encoding}` };
}
