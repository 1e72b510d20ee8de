import { contractHelp } from './contract-help';
import { Patterns, type CommandRequest, type CommandResponse, type EchoResponse, type RequestPattern } from '@echo-pair/common';

/** The text gateway's own commands (the connection runs them; the others go to the command controller). */
export const TEXT_GATEWAY_COMMANDS = [
  { name: 'nick', help: 'nick <name>        choose your chat nick (letters and digits of any script)' },
  { name: 'join', help: 'join <room>        enter a chat room: your lines go to its other members' },
  { name: 'leave', help: 'leave              leave the chat room: your lines are echoed again' },
  { name: 'who', help: 'who                members of your room, or the rooms there are' },
  { name: 'encoding', help: 'encoding <utf-8|gbk> how this connection reads and writes text' },
] as const;

/** Added to `/help` on the gateway's port: its own commands, then `/call` and `/emit` with the contract's patterns. */
export const TEXT_GATEWAY_HELP = [
  ...TEXT_GATEWAY_COMMANDS.map((command) => command.help),
  'quit               close the connection (also /quit, exit)',
  contractHelp(),
].join('\n');

/** Added to `/help` in a UDP text datagram: `/call` and `/emit` with the contract's patterns. */
export const UDP_HELP = contractHelp();

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
