import { type ErrorCode, type EventPattern, type RequestPattern, type TransportName } from '@echo-pair/common';
import { GatewayContext } from '../../core/gateway-context';
import type { CallOutcome, OutcomeNowOrLater } from '../gateway-server';
import type { ContractCall } from './contract-call';
import { nowOrLater } from './now-or-later';
import { errorLine } from './text-line';

/** The reply to an `/emit` whose handlers all ran without error. */
export const EMITTED_LINE = 'OK';

/** What a text door offers `/call` and `/emit`: the Nest pipeline of its handlers, and its error count. */
export interface ContractDoor {
  readonly transport: TransportName;
  /** Runs a request through the handlers Nest registered (`GatewayServer.invoke`). */
  call(pattern: RequestPattern, data: unknown, context: GatewayContext): OutcomeNowOrLater;
  /** Runs an event through the handlers Nest registered (`GatewayServer.deliverEvent`). */
  emit(pattern: EventPattern, data: unknown, context: GatewayContext): OutcomeNowOrLater;
  /** Counts an error the door found itself (the exception filter counts the handlers'). */
  countError(code: ErrorCode): void;
}

/**
 * The one line a text door answers a `/call` or `/emit` with: the response as one line of JSON,
 * `OK` for an event, or `ERR <CODE> <message>` (a line the door refused, or the handler's error):
 * there and then when the handler's pipeline ran synchronously, else a promise of it.
 */
export function answerContractCall(call: ContractCall, door: ContractDoor, peer: string): string | Promise<string> {
  if (!call.ok) {
    door.countError(call.error.code);
    return errorLine(call.error);
  }
  const context = new GatewayContext([call.pattern, door.transport, peer]);
  if (call.kind === 'event') {
    return nowOrLater(door.emit(call.pattern, call.payload, context), (outcome) => contractReplyLine('event', outcome));
  }
  return nowOrLater(door.call(call.pattern, call.payload, context), (outcome) => contractReplyLine('request', outcome));
}

/** A handler's outcome as a reply line; JSON.stringify writes no line break, so it is one line. */
export function contractReplyLine(kind: 'request' | 'event', outcome: CallOutcome): string {
  if (!outcome.ok) {
    return errorLine(outcome.error); // the exception filter counted it
  }
  return kind === 'event' ? EMITTED_LINE : (JSON.stringify(outcome.response) ?? 'null');
}
