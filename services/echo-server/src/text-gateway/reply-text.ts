import { Patterns, type CommandRequest, type CommandResponse, type EchoResponse, type RequestPattern } from '@echo-pair/common';

/** The text gateway's own commands, added to `/help` on its port. */
export const TEXT_GATEWAY_HELP = [
  'nick <name>        choose your chat nick (letters and digits of any script)',
  'join <room>        enter a chat room: your lines go to its other members',
  'leave              leave the chat room: your lines are echoed again',
  'who                members of your room, or the rooms there are',
  'encoding <utf-8|gbk> how this connection reads and writes text',
  'quit               close the connection (also /quit, exit)',
].join('\n');

/**
 * What a line-oriented peer reads back for a handled request: an echo's text, a command's
 * output. `/help` without arguments also lists `extraHelp`, the transport's own commands.
 */
export function replyTextOf(pattern: RequestPattern, request: object, response: unknown, extraHelp?: string): string {
  if (pattern === Patterns.ECHO) {
    return (response as EchoResponse).text;
  }
  const { output } = response as CommandResponse;
  const { name, args } = request as CommandRequest;
  return extraHelp !== undefined && name === 'help' && (args ?? []).length === 0 ? `${output}\n${extraHelp}` : output;
}
