/** What became of a line handed to a member: queued, the member cut off by it, or the member gone already. */
export type Delivery = 'delivered' | 'cut-off' | 'closed';

/** A text-gateway connection as the chat sees it. */
export interface ChatMember {
  /** Unique per server, from the connection count. */
  readonly id: number;
  nick: string;
  /**
   * Queues one line for the member, in the member's own encoding; a member that leaves more than
   * its send-buffer bound unread is cut off instead: it never holds the room back.
   */
  deliver(line: string): Delivery;
}
