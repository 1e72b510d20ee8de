import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { ErrorCodes, type RpcErrorEnvelope } from '@echo-pair/common';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { StatsService } from '../../operations/stats/stats.service';
import type { ChatMember } from './chat-member';
import { looksLikeGuestNick, nickKey } from './nick-key';

/** What a chat command answers its sender: one line, or an error envelope. */
export type ChatReply = { ok: true; line: string } | { ok: false; error: RpcErrorEnvelope };

export const NICK_MAX_LENGTH = 24;
export const ROOM_NAME_MAX_LENGTH = 32;
/** Letters and digits of any script (a Chinese nick reads fine in GBK and UTF-8 alike), `_`, `-` and `.`. */
const NICK = new RegExp(`^[\\p{L}\\p{N}_.-]{1,${NICK_MAX_LENGTH}}$`, 'u');
const ROOM = new RegExp(`^#?([\\p{L}\\p{N}_-]{1,${ROOM_NAME_MAX_LENGTH}})$`, 'u');

/**
 * The text gateway's chat rooms (the tutorials' two-way chat): members, nicks and delivery.
 * A member is in at most one room. Nicks are unique by look: the map of nicks is keyed by
 * `nickKey` (NFKC, case and the confusable skeleton of UTS #39), a member's nick is shown as
 * typed. Rooms, members per room and name lengths are bounded; an empty room is removed.
 * A room throttles its senders, not its readers: while a member that still reads is backed up,
 * the others' lines wait (`whenClear`), as IRC servers throttle an excess flood.
 */
@Injectable()
export class ChatRooms {
  private readonly rooms = new Map<string, Set<ChatMember>>();
  private readonly roomOfMember = new Map<ChatMember, string>();
  private readonly nicks = new Map<string, ChatMember>();
  /** Senders waiting for a member of their room that holds back, by room. */
  private readonly waiting = new Map<string, Map<ChatMember, () => void>>();
  private readonly maxRooms: number;
  private readonly maxMembers: number;

  constructor(
    private readonly stats: StatsService,
    config: ConfigService<EchoServerEnvironment, true>,
  ) {
    this.maxRooms = config.get('CHAT_MAX_ROOMS', { infer: true });
    this.maxMembers = config.get('CHAT_MAX_MEMBERS', { infer: true });
  }

  /** Takes the member's default nick (`guest-<id>`), which nobody else can hold: nicks cannot look like `guest-` + digits. */
  enter(member: ChatMember): void {
    this.nicks.set(nickKey(member.nick), member);
  }

  roomOf(member: ChatMember): string | undefined {
    return this.roomOfMember.get(member);
  }

  setNick(member: ChatMember, nick: string | undefined): ChatReply {
    if (nick === undefined || !NICK.test(nick) || /^guest-\p{Nd}+$/iu.test(nick) || looksLikeGuestNick(nick)) {
      return invalid(
        'nick',
        `a nick is 1 to ${NICK_MAX_LENGTH} letters, digits, "_", "-" or "." (and not guest-<number>), e.g. /nick alice`,
      );
    }
    const key = nickKey(nick);
    const holder = this.nicks.get(key);
    // A member may take a look-alike of its own nick (`alice` to `ALICE` or `аlice`): it impersonates no one.
    if (holder !== undefined && holder !== member) {
      const taken = holder.nick.toLowerCase() === nick.toLowerCase() ? 'is taken' : `looks like ${holder.nick}, which is taken`;
      return invalid('nick', `the nick ${nick} ${taken}`);
    }
    const previous = member.nick;
    this.nicks.delete(nickKey(previous));
    member.nick = nick;
    this.nicks.set(key, member);
    const room = this.roomOf(member);
    if (room !== undefined && previous !== nick) {
      this.broadcast(room, member, `* ${previous} is now ${nick}`);
    }
    return { ok: true, line: `* you are ${nick}` };
  }

  join(member: ChatMember, name: string | undefined): ChatReply {
    const room = name === undefined ? undefined : ROOM.exec(name)?.[1];
    if (room === undefined) {
      return invalid('join', `a room name is 1 to ${ROOM_NAME_MAX_LENGTH} letters, digits, "_" or "-", e.g. /join lobby`);
    }
    if (this.roomOf(member) === room) {
      return { ok: true, line: `* you are already in #${room}` };
    }
    const members = this.rooms.get(room);
    const current = this.roomOf(member);
    // A member alone in its room frees that room's place by leaving it.
    const freed = current !== undefined && this.rooms.get(current)?.size === 1 ? 1 : 0;
    if (members === undefined && this.rooms.size - freed >= this.maxRooms) {
      return limitReached(
        'CHAT_MAX_ROOMS',
        this.maxRooms,
        `the server has ${this.maxRooms} room${this.maxRooms === 1 ? '' : 's'} already; join one of them`,
      );
    }
    if (members !== undefined && members.size >= this.maxMembers) {
      return limitReached('CHAT_MAX_MEMBERS', this.maxMembers, `#${room} is full (${this.maxMembers} members)`);
    }
    this.leaveRoom(member, 'left');
    const joined = members ?? new Set<ChatMember>();
    this.rooms.set(room, joined);
    this.broadcast(room, member, `* ${member.nick} joined #${room}`);
    joined.add(member);
    this.roomOfMember.set(member, room);
    this.updateGauges();
    return { ok: true, line: `* you joined #${room}: ${nickList(joined)}` };
  }

  leave(member: ChatMember): ChatReply {
    const room = this.leaveRoom(member, 'left');
    return { ok: true, line: room === undefined ? '* you are not in a room' : `* you left #${room}` };
  }

  who(member: ChatMember): ChatReply {
    const room = this.roomOf(member);
    if (room !== undefined) {
      return { ok: true, line: `* #${room}: ${nickList(this.rooms.get(room)!)}` };
    }
    const rooms = [...this.rooms].map(([name, members]) => `#${name} (${members.size})`);
    return { ok: true, line: `* you are not in a room; rooms: ${rooms.length === 0 ? 'none yet' : rooms.join(', ')}` };
  }

  /** Delivers a line from `member` to every other member of its room; returns how many got it. */
  say(member: ChatMember, text: string): number {
    const room = this.roomOf(member);
    return room === undefined ? 0 : this.broadcast(room, member, `<${member.nick}> ${text}`);
  }

  /**
   * Undefined when no other member of the sender's room holds back (is backed up and still
   * reading); else a promise that resolves once none does, or once the sender is out of the room.
   * The sender's connection awaits it before its next room line, and reads nothing meanwhile.
   */
  whenClear(sender: ChatMember): Promise<void> | undefined {
    const room = this.roomOf(sender);
    if (room === undefined || !this.heldBack(room, sender)) {
      return undefined;
    }
    return new Promise((resolve) => {
      const waiters = this.waiting.get(room) ?? new Map<ChatMember, () => void>();
      this.waiting.set(room, waiters);
      waiters.get(sender)?.(); // one wait per sender: its lines run one at a time
      waiters.set(sender, resolve);
    });
  }

  /** A member no longer holds back (it read its backlog down, or stopped reading): its room's senders may go on. */
  released(member: ChatMember): void {
    const room = this.roomOf(member);
    if (room !== undefined) {
      this.wake(room);
    }
  }

  /** A member cut off between deliveries, for reading nothing for CHAT_STALL_MS: counted like one cut off by a delivery. */
  stalledOut(member: ChatMember): void {
    this.stats.recordChatCutOff();
    this.released(member);
  }

  /** The member's connection closed. */
  exit(member: ChatMember, reason: string): void {
    this.leaveRoom(member, `left (${reason})`);
    const key = nickKey(member.nick);
    if (this.nicks.get(key) === member) {
      this.nicks.delete(key);
    }
  }

  private leaveRoom(member: ChatMember, how: string): string | undefined {
    const room = this.roomOf(member);
    if (room === undefined) {
      return undefined;
    }
    const members = this.rooms.get(room)!;
    members.delete(member);
    this.roomOfMember.delete(member);
    if (members.size === 0) {
      this.rooms.delete(room);
    } else {
      this.broadcast(room, member, `* ${member.nick} ${how} #${room}`);
    }
    this.updateGauges();
    // It may have held the others back, or have been waiting itself.
    this.wake(room);
    return room;
  }

  private broadcast(room: string, sender: ChatMember, line: string): number {
    let delivered = 0;
    // A copy: a member cut off for not reading leaves the room while the line goes round.
    for (const member of [...(this.rooms.get(room) ?? [])]) {
      if (member === sender) {
        continue;
      }
      const delivery = member.deliver(line);
      if (delivery === 'delivered') {
        delivered += 1;
      } else if (delivery === 'cut-off') {
        this.stats.recordChatCutOff();
      }
    }
    this.stats.recordChatDeliveries(delivered);
    return delivered;
  }

  private heldBack(room: string, sender: ChatMember): boolean {
    for (const member of this.rooms.get(room) ?? []) {
      if (member !== sender && member.holdsBack) {
        return true;
      }
    }
    return false;
  }

  /** Lets go of the senders of `room` that no member holds back any more, and of those that left it. */
  private wake(room: string): void {
    const waiters = this.waiting.get(room);
    if (waiters === undefined) {
      return;
    }
    for (const [sender, resolve] of waiters) {
      if (this.roomOf(sender) !== room || !this.heldBack(room, sender)) {
        waiters.delete(sender);
        resolve();
      }
    }
    if (waiters.size === 0) {
      this.waiting.delete(room);
    }
  }

  private updateGauges(): void {
    this.stats.setChatGauges(this.rooms.size, this.roomOfMember.size);
  }
}

function nickList(members: Iterable<ChatMember>): string {
  const nicks = [...members].map((member) => member.nick);
  return `${nicks.join(', ')} (${nicks.length} member${nicks.length === 1 ? '' : 's'})`;
}

function invalid(command: string, reason: string): ChatReply {
  return {
    ok: false,
    error: {
      code: ErrorCodes.INVALID_COMMAND_ARGS,
      message: `${command}: ${reason}`,
      details: { command, usage: USAGE[command] ?? command },
    },
  };
}

function limitReached(limit: string, max: number, message: string): ChatReply {
  return { ok: false, error: { code: ErrorCodes.LIMIT_REACHED, message, details: { limit, max } } };
}

const USAGE: Record<string, string> = { nick: 'nick <name>', join: 'join <room>' };
