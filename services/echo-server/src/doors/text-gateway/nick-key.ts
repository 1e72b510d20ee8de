import unhomoglyph from 'unhomoglyph';

/**
 * What two nicks are compared by: equal keys mean the nicks look alike. The key is the
 * confusable skeleton of Unicode TS #39 (section 4) of the nick in NFKC, lower-cased:
 *
 * 1. NFKC, then lower case: `ａｌｉｃｅ`, `ALICE` and `alice` meet, and so do `ﬁ` and `fi`.
 * 2. skeleton(): NFD; Default_Ignorable_Code_Point characters removed (a Hangul filler is a
 *    letter, so the nick pattern lets it through); each character replaced by its prototype
 *    from confusables.txt (the `unhomoglyph` package's table: Cyrillic `а` becomes `a`, `0`
 *    becomes `O`, `m` becomes `rn`); NFD again.
 * 3. Lower case again, as some prototypes are capitals (`0` → `O`).
 *
 * Case is folded before the skeleton, so a capital that looks like another lower-case letter
 * (`I` and `l`) is told apart by its lower case (`i`): the key stays one string per nick.
 */
export function nickKey(nick: string): string {
  return skeleton(nick.normalize('NFKC').toLowerCase()).toLowerCase();
}

function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD').replace(/\p{Default_Ignorable_Code_Point}/gu, '')).normalize('NFD');
}

const GUEST_KEY_PREFIX = nickKey('guest-');
/** What a digit becomes in a key: itself, or its prototype (`0` → `o`, `1` → `l`). */
const DIGIT_KEYS = new Set([...'0123456789'].map(nickKey));

/**
 * Whether a nick looks like a default nick, `guest-` and a number (`guеst-7` with a Cyrillic
 * `е`, `guest-lO`): no one may take one, as a connection enters the chat holding its own.
 */
export function looksLikeGuestNick(nick: string): boolean {
  const key = nickKey(nick);
  const rest = [...key.slice(GUEST_KEY_PREFIX.length)];
  return key.startsWith(GUEST_KEY_PREFIX) && rest.length > 0 && rest.every((char) => DIGIT_KEYS.has(char) || /\p{Nd}/u.test(char));
}
