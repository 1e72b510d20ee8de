/** What became of a line handed to a member: queued, the member cut off by it, or the member gone already. */
export type Delivery = 'delivered' | 'cut-off' | 'closed';

/** A text-gateway connection as the chat sees it. */
export interface ChatMember {
  /** Unique per server, from the connection count. */
  readonly id: number;
  nick: string;
  /**
   * Whether the member's room's senders wait for it: lines are backed up for it and it is still
   * reading them. It tells its room (`ChatRooms.released`) when that ends.
   */
  readonly holdsBack: boolean;
  /**
   * Queues one line for the member, in the member's own encoding; a member that reads nothing
   * for CHAT_STALL_MS, or leaves more than CHAT_MAX_BACKLOG_BYTES unread, is cut off instead.
   */
  deliver(line: string): Delivery;
}
