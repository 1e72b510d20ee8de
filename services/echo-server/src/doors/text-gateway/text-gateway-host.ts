import type { LoggerService } from '@nestjs/common';
import type { ErrorCode, RequestPattern } from '@echo-pair/common';
import type { OutcomeNowOrLater } from '../gateway-server';
import type { GatewayContext } from '../../core/gateway-context';
import type { ChatRooms } from './chat-rooms.service';
import type { EncodingSetting } from '../text/text-codec';
import type { ContractCall } from '../text/contract-call';

export interface TextGatewaySettings {
  encoding: EncodingSetting;
  maxLineBytes: number;
  idleFlushMs: number;
  welcomeDelayMs: number;
  idleTimeoutMs: number;
  /** A line must be complete this long after its first byte; 0: no deadline. */
  lineTimeoutMs: number;
  /** CHAT_STALL_MS and CHAT_MAX_BACKLOG_BYTES. */
  chatStallMs: number;
  chatMaxBacklogBytes: number;
}

/** What a text connection needs of its gateway. */
export interface TextGatewayHost {
  readonly settings: TextGatewaySettings;
  readonly chat: ChatRooms;
  readonly logger: LoggerService;
  welcome(): string;
  /** Runs a request through the handlers Nest registered. */
  call(pattern: RequestPattern, data: object, context: GatewayContext): OutcomeNowOrLater;
  /** Runs a `/call` or `/emit` line through the handlers Nest registered: its one reply line, there and then or later. */
  contractCall(call: ContractCall, peer: string): string | Promise<string>;
  /** The text a reply is written back as. */
  replyText(pattern: RequestPattern, request: object, response: unknown): string;
  /** Counts an error the gateway found itself (the exception filter counts the handlers'). */
  countError(code: ErrorCode): void;
  /** The connection closes itself because of a limit of the door (`reason`, its setting), as the door's refusals are reported. */
  closedByDoor(reason: string, peer: string, detail: string): void;
}
