import { EventPattern, MessagePattern } from '@nestjs/microservices';
import type { EventOf, EventPattern as ContractEvent, RequestOf, RequestPattern, ResponseOf } from '@echo-pair/common';

/** A handler of request pattern `P`: takes its request (a DTO of it), returns its response; extra context parameters allowed. */
export type RequestHandler<P extends RequestPattern> = (
  request: RequestOf<P>,
  ...context: never[]
) => ResponseOf<P> | Promise<ResponseOf<P>>;

/** A handler of event pattern `E`. */
export type EventHandler<E extends ContractEvent> = (event: EventOf<E>, ...context: never[]) => void | Promise<void>;

/**
 * `@MessagePattern` for a pattern of the contract, checked by the compiler: the name must be a
 * request pattern of `CONTRACT`, and the method must take its request and return its response.
 */
export function HandlePattern<P extends RequestPattern>(pattern: P) {
  return <M extends RequestHandler<P>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void => {
    MessagePattern(pattern)(target, key, descriptor as PropertyDescriptor);
  };
}

/** `@EventPattern` for an event of the contract, checked by the compiler like `HandlePattern`. */
export function HandleEvent<E extends ContractEvent>(pattern: E) {
  return <M extends EventHandler<E>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void => {
    EventPattern(pattern)(target, key, descriptor as PropertyDescriptor);
  };
}
