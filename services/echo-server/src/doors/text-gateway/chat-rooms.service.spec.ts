import { ErrorCodes } from '@echo-pair/common';
import type { ConfigService } from '@nestjs/config';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { StatsService } from '../../operations/stats/stats.service';
import type { ChatMember, Delivery } from './chat-member';
import { ChatRooms, NICK_MAX_LENGTH, ROOM_NAME_MAX_LENGTH, type ChatReply } from './chat-rooms.service';

/**
 * A connection as the chat sees it. It records the lines it got; `cutOffNext` makes the next
 * delivery cut it off (as a connection with too much unread), after which it is 'closed';
 * `holdsBack` says it is backed up and still reading.
 */
class FakeMember implements ChatMember {
  readonly lines: string[] = [];
  cutOffNext = false;
  closed = false;
  holdsBack = false;
  /** Runs inside `deliver`, before the line is taken: what a connection's side effects would do. */
  onDeliver?: (line: string) => void;

  constructor(
    readonly id: number,
    public nick = `guest-${id}`,
  ) {}

  deliver(line: string): Delivery {
    this.onDeliver?.(line);
    if (this.closed) {
      return 'closed';
    }
    if (this.cutOffNext) {
      this.closed = true;
      return 'cut-off';
    }
    this.lines.push(line);
    return 'delivered';
  }

  /** The lines received so far, and forgets them. */
  take(): string[] {
    return this.lines.splice(0);
  }
}

function configOf(limits: { CHAT_MAX_ROOMS: number; CHAT_MAX_MEMBERS: number }): ConfigService<EchoServerEnvironment, true> {
  return {
    get: (key: string) => {
      if (!(key in limits)) {
        throw new Error(`unexpected config key ${key}`);
      }
      return limits[key as keyof typeof limits];
    },
  } as unknown as ConfigService<EchoServerEnvironment, true>;
}

function line(reply: ChatReply): string {
  if (!reply.ok) {
    throw new Error(`expected a line, got ${JSON.stringify(reply.error)}`);
  }
  return reply.line;
}

describe('ChatRooms', () => {
  let stats: StatsService;
  let chat: ChatRooms;
  let nextId: number;

  function setUp(limits = { CHAT_MAX_ROOMS: 10, CHAT_MAX_MEMBERS: 10 }): void {
    stats = new StatsService();
    chat = new ChatRooms(stats, configOf(limits));
    nextId = 1;
  }

  /** A member that entered the chat, optionally already renamed. */
  function member(nick?: string): FakeMember {
    const entered = new FakeMember(nextId++);
    chat.enter(entered);
    if (nick !== undefined) {
      expect(chat.setNick(entered, nick).ok).toBe(true);
    }
    return entered;
  }

  /** Members that joined `room` in order, with the lines that caused forgotten. */
  function inRoom(room: string, ...nicks: string[]): FakeMember[] {
    const members = nicks.map((nick) => member(nick));
    for (const joining of members) {
      expect(chat.join(joining, room).ok).toBe(true);
    }
    members.forEach((joined) => joined.take());
    return members;
  }

  const chatStats = () => stats.snapshot().chat;

  beforeEach(() => setUp());

  describe('nicks', () => {
    it.each(['alice', 'Bob_1', 'a.b-c', 'x', '张三', 'Ünal', '42', 'guest-abc', 'guest-', 'guest', 'a'.repeat(NICK_MAX_LENGTH)])(
      'accepts %j',
      (nick) => {
        const alice = member();

        expect(chat.setNick(alice, nick)).toEqual({ ok: true, line: `* you are ${nick}` });
        expect(alice.nick).toBe(nick);
      },
    );

    it.each([
      ['undefined', undefined],
      ['empty', ''],
      ['too long', 'a'.repeat(NICK_MAX_LENGTH + 1)],
      ['a space', 'al ice'],
      ['punctuation', 'alice!'],
      ['a hash', '#alice'],
      ['an emoji', 'a😀'],
      ['an ESC', 'a\u001b'],
      ['guest-<n>', 'guest-7'],
      ['guest-<n> in another case', 'GUEST-12'],
    ])('refuses %s, keeping the nick it had', (_label, nick) => {
      const alice = member();

      const reply = chat.setNick(alice, nick);

      expect(reply).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.INVALID_COMMAND_ARGS,
          message: expect.stringContaining('nick: a nick is 1 to 24') as unknown,
          details: { command: 'nick', usage: 'nick <name>' },
        },
      });
      expect(alice.nick).toBe('guest-1');
    });

    it('refuses a nick someone holds, ignoring case', () => {
      member('Alice');
      const bob = member();

      const reply = chat.setNick(bob, 'aLiCe');

      expect(reply).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.INVALID_COMMAND_ARGS,
          message: 'nick: the nick aLiCe is taken',
          details: { command: 'nick', usage: 'nick <name>' },
        },
      });
      expect(bob.nick).toBe('guest-2');
    });

    /** The reply to a nick that is taken, as the message says it. */
    function takenReply(message: string): ChatReply {
      return {
        ok: false,
        error: { code: ErrorCodes.INVALID_COMMAND_ARGS, message, details: { command: 'nick', usage: 'nick <name>' } },
      };
    }

    it.each([
      ['a Cyrillic а', 'alice', '\u0430lice'],
      ['Cyrillic letters only (асе)', 'ace', '\u0430\u0441\u0435'],
      ['mixed scripts (Latin, Cyrillic о, Greek ο)', 'bobo', 'b\u043Eb\u03BF'],
      ['full-width letters', 'alice', '\uFF41\uFF4C\uFF49\uFF43\uFF45'],
      ['full-width capitals', 'alice', '\uFF21\uFF2C\uFF29\uFF23\uFF25'],
      ['the ligature ﬁ', 'fiona', '\uFB01ona'],
      ['the ligature ﬀ, the other way round', '\uFB00', 'ff'],
      ['a compatibility form (superscript ²)', 'x2', 'x\u00B2'],
      ['a Cyrillic capital А and other case', 'Alice', '\u0410LICE'],
      ['a digit that looks like a letter (0 and O)', 'bob', 'b0b'],
      ['rn for m', 'emma', 'ernrna'],
      ['a Hangul filler (a letter, but default-ignorable)', 'alice', 'alice\u3164'],
    ])('refuses a look-alike of a nick someone holds: %s', (_label, held, nick) => {
      member(held);
      const bob = member();

      expect(chat.setNick(bob, nick)).toEqual(takenReply(`nick: the nick ${nick} looks like ${held}, which is taken`));
      expect(bob.nick).toBe('guest-2');
    });

    it('keys nicks by look, not by the spelling that took them first', () => {
      const cyrillic = member('\u0430lice');

      expect(chat.setNick(member(), 'alice')).toEqual(takenReply('nick: the nick alice looks like \u0430lice, which is taken'));
      // Freed under any spelling: the key is what is held.
      chat.exit(cyrillic, 'disconnected');
      expect(line(chat.setNick(member(), '\uFF41lice'))).toBe('* you are \uFF41lice');
    });

    it('keeps nicks that only share letters with diacritics or other scripts apart', () => {
      member('Unal');
      member('alice');

      expect(chat.setNick(member(), '\u00DCnal').ok).toBe(true);
      expect(chat.setNick(member(), 'alicia').ok).toBe(true);
      expect(chat.setNick(member(), '\u0430\u043B\u0438\u0441\u0430').ok).toBe(true); // алиса
    });

    it('lets a member take a look-alike of its own nick, announced and shown as typed, and still held', () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');

      expect(line(chat.setNick(alice, '\u0430lice'))).toBe('* you are \u0430lice');

      expect(bob.take()).toEqual(['* alice is now \u0430lice']);
      expect(line(chat.who(bob))).toBe('* #lobby: \u0430lice, bob (2 members)');
      expect(chat.setNick(member(), 'ALICE').ok).toBe(false);
    });

    it.each(['gu\u0435st-7', 'guest-\uFF17', 'guest-lO1', 'GUEST-o'])('refuses %j, which looks like a guest nick', (nick) => {
      const reply = chat.setNick(member(), nick);

      expect(reply.ok ? undefined : reply.error.message).toContain('(and not guest-<number>)');
    });

    it('refuses a look-alike of the guest nick a member holds', () => {
      member(); // guest-1

      expect(chat.setNick(member(), 'gu\u0435st-1').ok).toBe(false);
    });

    it('reserves the nick a member entered with', () => {
      const old = new FakeMember(99, 'veteran');
      chat.enter(old);

      expect(chat.setNick(member(), 'VETERAN').ok).toBe(false);
    });

    it("lets a member change its own nick's case", () => {
      const alice = member('alice');

      expect(line(chat.setNick(alice, 'ALICE'))).toBe('* you are ALICE');
      expect(alice.nick).toBe('ALICE');
      // Still held, under the new spelling.
      expect(chat.setNick(member(), 'Alice').ok).toBe(false);
    });

    it('frees the previous nick on a rename', () => {
      const alice = member('alice');
      chat.setNick(alice, 'carol');
      const bob = member();

      expect(line(chat.setNick(bob, 'alice'))).toBe('* you are alice');
      expect(chat.setNick(member(), 'carol').ok).toBe(false);
    });

    it('announces a rename to the rest of the room, not to the member or other rooms', () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');
      const [elsewhere] = inRoom('other', 'dave');

      expect(line(chat.setNick(alice, 'alicia'))).toBe('* you are alicia');

      expect(bob.take()).toEqual(['* alice is now alicia']);
      expect(carol.take()).toEqual(['* alice is now alicia']);
      expect(alice.take()).toEqual([]);
      expect(elsewhere.take()).toEqual([]);
    });

    it('announces nothing for the same nick again, or outside a room', () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');
      const loner = member('loner');

      chat.setNick(alice, 'alice');
      chat.setNick(loner, 'hermit');

      expect(bob.take()).toEqual([]);
      expect(alice.take()).toEqual([]);
    });
  });

  describe('join', () => {
    it('answers the first member with the member list', () => {
      const alice = member('alice');

      expect(chat.join(alice, 'lobby')).toEqual({ ok: true, line: '* you joined #lobby: alice (1 member)' });
      expect(chat.roomOf(alice)).toBe('lobby');
      expect(alice.take()).toEqual([]);
    });

    it('announces a newcomer to the members already there, lists them all to it', () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');
      const carol = member('carol');

      expect(line(chat.join(carol, '#lobby'))).toBe('* you joined #lobby: alice, bob, carol (3 members)');

      expect(alice.take()).toEqual(['* carol joined #lobby']);
      expect(bob.take()).toEqual(['* carol joined #lobby']);
      expect(carol.take()).toEqual([]);
    });

    it('treats "#name" and "name" as the same room', () => {
      const [alice] = inRoom('#lobby', 'alice');
      const bob = member('bob');

      chat.join(bob, 'lobby');

      expect(chat.roomOf(bob)).toBe('lobby');
      expect(alice.take()).toEqual(['* bob joined #lobby']);
    });

    it.each([
      ['undefined', undefined],
      ['empty', ''],
      ['only "#"', '#'],
      ['two "#"', '##lobby'],
      ['too long', 'r'.repeat(ROOM_NAME_MAX_LENGTH + 1)],
      ['a space', 'the lobby'],
      ['a dot', 'lob.by'],
    ])('refuses a room name that is %s', (_label, name) => {
      const alice = member('alice');

      expect(chat.join(alice, name)).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.INVALID_COMMAND_ARGS,
          message: expect.stringContaining('join: a room name is 1 to 32') as unknown,
          details: { command: 'join', usage: 'join <room>' },
        },
      });
      expect(chat.roomOf(alice)).toBeUndefined();
      expect(chatStats()).toMatchObject({ rooms: 0, members: 0 });
    });

    it('accepts the longest room name and names of any script', () => {
      const longest = 'r'.repeat(ROOM_NAME_MAX_LENGTH);

      expect(chat.join(member('a'), longest).ok).toBe(true);
      expect(chat.join(member('b'), '#聊天室').ok).toBe(true);
    });

    it('says so when the member is in that room already, announcing nothing', () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');

      expect(chat.join(alice, '#lobby')).toEqual({ ok: true, line: '* you are already in #lobby' });

      expect(bob.take()).toEqual([]);
      expect(chatStats()).toMatchObject({ rooms: 1, members: 2 });
    });

    it('refuses a new room beyond CHAT_MAX_ROOMS and leaves the member where it was', () => {
      setUp({ CHAT_MAX_ROOMS: 2, CHAT_MAX_MEMBERS: 10 });
      const [alice, bob] = inRoom('a', 'alice', 'bob');
      inRoom('b', 'carol');

      const reply = chat.join(alice, 'c');

      expect(reply).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.LIMIT_REACHED,
          message: 'the server has 2 rooms already; join one of them',
          details: { limit: 'CHAT_MAX_ROOMS', max: 2 },
        },
      });
      expect(chat.roomOf(alice)).toBe('a');
      expect(bob.take()).toEqual([]);
      expect(chatStats()).toMatchObject({ rooms: 2, members: 3 });
      // An existing room can still be joined.
      expect(chat.join(alice, 'b').ok).toBe(true);
    });

    it('refuses a member beyond CHAT_MAX_MEMBERS and leaves it where it was', () => {
      setUp({ CHAT_MAX_ROOMS: 10, CHAT_MAX_MEMBERS: 2 });
      const [alice, bob] = inRoom('full', 'alice', 'bob');
      const [carol] = inRoom('other', 'carol');

      const reply = chat.join(carol, 'full');

      expect(reply).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.LIMIT_REACHED,
          message: '#full is full (2 members)',
          details: { limit: 'CHAT_MAX_MEMBERS', max: 2 },
        },
      });
      expect(chat.roomOf(carol)).toBe('other');
      expect(alice.take()).toEqual([]);
      expect(bob.take()).toEqual([]);
      expect(line(chat.who(alice))).toBe('* #full: alice, bob (2 members)');
    });

    it('leaves the old room when joining another, announcing it there', () => {
      const [alice, bob] = inRoom('a', 'alice', 'bob');
      const [carol] = inRoom('b', 'carol');

      expect(line(chat.join(alice, 'b'))).toBe('* you joined #b: carol, alice (2 members)');

      expect(bob.take()).toEqual(['* alice left #a']);
      expect(carol.take()).toEqual(['* alice joined #b']);
      expect(alice.take()).toEqual([]);
      expect(chat.roomOf(alice)).toBe('b');
      expect(line(chat.who(bob))).toBe('* #a: bob (1 member)');
    });

    it('removes a room its last member leaves for another', () => {
      const [alice] = inRoom('a', 'alice');

      chat.join(alice, 'b');

      expect(line(chat.who(member('bob')))).toBe('* you are not in a room; rooms: #b (1)');
      expect(chatStats()).toMatchObject({ rooms: 1, members: 1 });
    });

    it('frees the room slot of a removed room', () => {
      setUp({ CHAT_MAX_ROOMS: 1, CHAT_MAX_MEMBERS: 10 });
      const [alice] = inRoom('a', 'alice');
      chat.leave(alice);

      expect(chat.join(member('bob'), 'b').ok).toBe(true);
    });
  });

  describe('leave', () => {
    it('announces the leaver to the rest and answers it', () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');

      expect(chat.leave(alice)).toEqual({ ok: true, line: '* you left #lobby' });

      expect(bob.take()).toEqual(['* alice left #lobby']);
      expect(carol.take()).toEqual(['* alice left #lobby']);
      expect(alice.take()).toEqual([]);
      expect(chat.roomOf(alice)).toBeUndefined();
      expect(chat.say(alice, 'anyone?')).toBe(0);
      expect(bob.take()).toEqual([]);
    });

    it('answers a member that is in no room', () => {
      expect(chat.leave(member('alice'))).toEqual({ ok: true, line: '* you are not in a room' });
    });

    it('removes a room its last member leaves', () => {
      const [alice] = inRoom('lobby', 'alice');

      chat.leave(alice);

      expect(line(chat.who(alice))).toBe('* you are not in a room; rooms: none yet');
      expect(chatStats()).toMatchObject({ rooms: 0, members: 0 });
    });
  });

  describe('who', () => {
    it("lists the members of the member's room", () => {
      const [alice] = inRoom('lobby', 'alice', 'bob');
      inRoom('other', 'carol');

      expect(chat.who(alice)).toEqual({ ok: true, line: '* #lobby: alice, bob (2 members)' });
    });

    it('lists the rooms and their sizes to a member in no room', () => {
      inRoom('a', 'alice', 'bob');
      inRoom('b', 'carol');

      expect(chat.who(member('dave'))).toEqual({ ok: true, line: '* you are not in a room; rooms: #a (2), #b (1)' });
    });

    it('says there are no rooms yet', () => {
      expect(chat.who(member('alice'))).toEqual({ ok: true, line: '* you are not in a room; rooms: none yet' });
    });
  });

  describe('say', () => {
    it('delivers the line to the other members only, and counts them', () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');
      const [dave] = inRoom('other', 'dave');
      const before = chatStats().deliveries;

      expect(chat.say(alice, 'hi all')).toBe(2);

      expect(bob.take()).toEqual(['<alice> hi all']);
      expect(carol.take()).toEqual(['<alice> hi all']);
      expect(alice.take()).toEqual([]);
      expect(dave.take()).toEqual([]);
      expect(chatStats().deliveries).toBe(before + 2);
    });

    it('delivers nothing for a member in no room', () => {
      const [bob] = inRoom('lobby', 'bob');
      const before = chatStats().deliveries;

      expect(chat.say(member('alice'), 'hello?')).toBe(0);

      expect(bob.take()).toEqual([]);
      expect(chatStats().deliveries).toBe(before);
    });

    it('delivers nothing to a member alone in its room', () => {
      const [alice] = inRoom('lobby', 'alice');

      expect(chat.say(alice, 'echo?')).toBe(0);
      expect(alice.take()).toEqual([]);
    });

    it('counts the join announcements as deliveries', () => {
      inRoom('lobby', 'alice', 'bob', 'carol'); // bob's join: 1, carol's: 2

      expect(chatStats().deliveries).toBe(3);
    });

    it('counts a member cut off during a broadcast once, and the rest of the room still gets the line', () => {
      const [alice, bob, carol, dave] = inRoom('lobby', 'alice', 'bob', 'carol', 'dave');
      bob.cutOffNext = true;
      const before = chatStats();

      expect(chat.say(alice, 'first')).toBe(2);

      expect(bob.take()).toEqual([]);
      expect(carol.take()).toEqual(['<alice> first']);
      expect(dave.take()).toEqual(['<alice> first']);
      expect(chatStats()).toMatchObject({ cutOff: 1, deliveries: before.deliveries + 2 });

      // Until its connection closes, bob is still a member: 'closed' from now on, not counted again.
      expect(chat.say(carol, 'second')).toBe(2);
      expect(alice.take()).toEqual(['<carol> second']);
      expect(dave.take()).toEqual(['<carol> second']);
      expect(chatStats()).toMatchObject({ cutOff: 1, deliveries: before.deliveries + 4 });
    });

    it('goes on round the room when a member cut off leaves it during the broadcast', () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');
      bob.cutOffNext = true;
      // As if the connection's close were handled at once.
      bob.onDeliver = () => {
        if (bob.cutOffNext && !bob.closed) {
          chat.exit(bob, 'cut off');
        }
      };

      expect(chat.say(alice, 'hi')).toBe(1);

      expect(carol.take()).toEqual(['* bob left (cut off) #lobby', '<alice> hi']);
      expect(alice.take()).toEqual(['* bob left (cut off) #lobby']);
      expect(chatStats()).toMatchObject({ rooms: 1, members: 2, cutOff: 1 });
      expect(line(chat.who(alice))).toBe('* #lobby: alice, carol (2 members)');
    });

    it('does not count members whose connection is closed already, as delivered or as cut off', () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');
      bob.closed = true;
      const before = chatStats();

      expect(chat.say(alice, 'hi')).toBe(1);

      expect(carol.take()).toEqual(['<alice> hi']);
      expect(chatStats()).toMatchObject({ cutOff: 0, deliveries: before.deliveries + 1 });
    });
  });

  describe('exit', () => {
    it('announces the leaver with the reason and frees its nick', () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');

      chat.exit(alice, 'disconnected');

      expect(bob.take()).toEqual(['* alice left (disconnected) #lobby']);
      expect(chat.roomOf(alice)).toBeUndefined();
      expect(line(chat.who(bob))).toBe('* #lobby: bob (1 member)');
      expect(line(chat.setNick(member(), 'ALICE'))).toBe('* you are ALICE');
    });

    it('frees the nick of a member in no room, announcing nothing', () => {
      const [bob] = inRoom('lobby', 'bob');
      const alice = member('alice');

      chat.exit(alice, 'disconnected');

      expect(bob.take()).toEqual([]);
      expect(chat.setNick(member(), 'alice').ok).toBe(true);
    });

    it('does not free a nick another member holds now', () => {
      const alice = member('alice');
      chat.setNick(alice, 'alicia');
      const bob = member('alice');

      chat.exit(alice, 'disconnected');

      // `alice` is bob's; `alicia` is free again.
      expect(chat.setNick(member(), 'alice').ok).toBe(false);
      expect(chat.setNick(member(), 'alicia').ok).toBe(true);
      expect(bob.nick).toBe('alice');
    });

    it('removes the room of its last member', () => {
      const [alice] = inRoom('lobby', 'alice');

      chat.exit(alice, 'idle');

      expect(chatStats()).toMatchObject({ rooms: 0, members: 0 });
      expect(line(chat.who(member('bob')))).toBe('* you are not in a room; rooms: none yet');
    });
  });

  describe('a room throttles its senders, not its readers', () => {
    /** A promise's state, seen after the microtasks queued so far have run. */
    async function settled(promise: Promise<void> | undefined): Promise<boolean> {
      let done = promise === undefined;
      void promise?.then(() => {
        done = true;
      });
      for (let turn = 0; turn < 5; turn++) {
        await Promise.resolve();
      }
      return done;
    }

    it('lets a sender go at once when no other member of its room holds back', () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');
      const [carol] = inRoom('other', 'carol');
      carol.holdsBack = true; // another room's
      alice.holdsBack = true; // its own backlog: its lines do not go to itself

      expect(chat.whenClear(alice)).toBeUndefined();
      expect(chat.whenClear(bob)).toBeDefined();
      expect(chat.whenClear(member('loner'))).toBeUndefined();
    });

    it('holds a sender back while a member of its room holds back, and lets it go once none does', async () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');
      bob.holdsBack = true;
      carol.holdsBack = true;

      const waiting = chat.whenClear(alice);
      expect(await settled(waiting)).toBe(false);

      bob.holdsBack = false;
      chat.released(bob);
      expect(await settled(waiting)).toBe(false); // carol still does

      carol.holdsBack = false;
      chat.released(carol);
      expect(await settled(waiting)).toBe(true);
    });

    it('lets every waiting sender of the room go together, and no sender of another room', async () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');
      const [dave, erin] = inRoom('other', 'dave', 'erin');
      carol.holdsBack = true;
      erin.holdsBack = true;
      const waits = [chat.whenClear(alice), chat.whenClear(bob), chat.whenClear(dave)];

      carol.holdsBack = false;
      chat.released(carol);

      expect(await Promise.all(waits.map((wait) => settled(wait)))).toEqual([true, true, false]);
    });

    it.each([
      ['leaves the room', (chat: ChatRooms, holder: ChatMember) => chat.leave(holder)],
      ['joins another room', (chat: ChatRooms, holder: ChatMember) => chat.join(holder, 'elsewhere')],
      ['disconnects', (chat: ChatRooms, holder: ChatMember) => chat.exit(holder, 'disconnected')],
    ])('lets the senders go when the member holding them back %s', async (_label, leave) => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');
      bob.holdsBack = true;
      const waiting = chat.whenClear(alice);
      expect(await settled(waiting)).toBe(false);

      leave(chat, bob);

      expect(await settled(waiting)).toBe(true);
      expect(alice.take()).toEqual([expect.stringMatching(/^\* bob (left|joined)/)]);
    });

    it('ends the wait of a sender whose own connection closes while it waits', async () => {
      const [alice, bob, carol] = inRoom('lobby', 'alice', 'bob', 'carol');
      bob.holdsBack = true;
      const waiting = chat.whenClear(alice);

      chat.exit(alice, 'disconnected');

      expect(await settled(waiting)).toBe(true);
      expect(chat.say(alice, 'too late')).toBe(0);
      expect(carol.take()).toEqual(['* alice left (disconnected) #lobby']);
    });

    it('counts a member cut off for stalling, and lets the senders it held go', async () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');
      bob.holdsBack = true;
      const waiting = chat.whenClear(alice);

      bob.holdsBack = false;
      chat.stalledOut(bob);

      expect(await settled(waiting)).toBe(true);
      expect(chatStats().cutOff).toBe(1);
    });

    it('does not deadlock two members that flood each other: each waits for the other only while the other holds back', async () => {
      const [alice, bob] = inRoom('lobby', 'alice', 'bob');
      alice.holdsBack = true;
      bob.holdsBack = true;
      const aliceWaits = chat.whenClear(alice);
      const bobWaits = chat.whenClear(bob);
      expect([await settled(aliceWaits), await settled(bobWaits)]).toEqual([false, false]);

      // Alice reads her backlog down: bob's lines may go to her again; alice still waits for bob.
      alice.holdsBack = false;
      chat.released(alice);
      expect([await settled(aliceWaits), await settled(bobWaits)]).toEqual([false, true]);

      // Bob stops reading altogether: he holds no one back any more (his connection says so once its window passes).
      bob.holdsBack = false;
      chat.released(bob);
      expect(await settled(aliceWaits)).toBe(true);
      expect(chat.whenClear(alice)).toBeUndefined();
      expect(chat.whenClear(bob)).toBeUndefined();
    });
  });

  describe('stats', () => {
    it('keeps the room and member gauges current', () => {
      expect(chatStats()).toMatchObject({ rooms: 0, members: 0 });

      const alice = member('alice');
      const bob = member('bob');
      const carol = member('carol');
      expect(chatStats()).toMatchObject({ rooms: 0, members: 0 }); // entering is not joining

      chat.join(alice, 'a');
      expect(chatStats()).toMatchObject({ rooms: 1, members: 1 });
      chat.join(bob, 'a');
      expect(chatStats()).toMatchObject({ rooms: 1, members: 2 });
      chat.join(carol, 'b');
      expect(chatStats()).toMatchObject({ rooms: 2, members: 3 });
      chat.join(bob, 'b');
      expect(chatStats()).toMatchObject({ rooms: 2, members: 3 });
      chat.leave(alice);
      expect(chatStats()).toMatchObject({ rooms: 1, members: 2 });
      chat.exit(carol, 'disconnected');
      expect(chatStats()).toMatchObject({ rooms: 1, members: 1 });
      chat.exit(bob, 'disconnected');
      expect(chatStats()).toMatchObject({ rooms: 0, members: 0 });
    });

    it('reads its limits from the configuration', () => {
      const get = jest.fn((key: string) => (key === 'CHAT_MAX_ROOMS' ? 3 : 4));
      new ChatRooms(new StatsService(), { get } as unknown as ConfigService<EchoServerEnvironment, true>);

      expect(get.mock.calls.map(([key]) => key).sort()).toEqual(['CHAT_MAX_MEMBERS', 'CHAT_MAX_ROOMS']);
    });
  });

  describe('the room limit when switching rooms', () => {
    it('lets a member alone in its room move to a new room at the limit, since its old room goes', () => {
      setUp({ CHAT_MAX_ROOMS: 1, CHAT_MAX_MEMBERS: 10 });
      const alice = member('alice');
      expect(chat.join(alice, 'a').ok).toBe(true);

      expect(chat.join(alice, 'b')).toEqual({ ok: true, line: '* you joined #b: alice (1 member)' });
      expect(chatStats()).toMatchObject({ rooms: 1, members: 1 });
    });

    it('refuses a new room at the limit to a member who shares its room, and says "room" for one', () => {
      setUp({ CHAT_MAX_ROOMS: 1, CHAT_MAX_MEMBERS: 10 });
      const [alice] = inRoom('a', 'alice', 'bob');

      const reply = chat.join(alice, 'b');

      expect(reply.ok ? undefined : reply.error.message).toBe('the server has 1 room already; join one of them');
      expect(chat.roomOf(alice)).toBe('a');
    });

    it.each(['guest-１', 'guest-١٢'])('refuses %j, a guest nick in other digits', (nick) => {
      expect(chat.setNick(member(), nick).ok).toBe(false);
    });
  });
});
