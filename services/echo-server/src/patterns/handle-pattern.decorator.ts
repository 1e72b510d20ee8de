import { EventPattern, MessagePattern } from '@nestjs/microservices';
import {
  CONTRACT,
  type EventOf,
  type EventPattern as ContractEvent,
  type RequestOf,
  type RequestPattern,
  type ResponseOf,
} from '@echo-pair/common';

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
    assertValidatedByTheContract(`@HandlePattern('${pattern}')`, CONTRACT.requests[pattern]?.dto, target, key);
    MessagePattern(pattern)(target, key, descriptor as PropertyDescriptor);
  };
}

/** `@EventPattern` for an event of the contract, checked by the compiler like `HandlePattern`. */
export function HandleEvent<E extends ContractEvent>(pattern: E) {
  return <M extends EventHandler<E>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>): void => {
    assertValidatedByTheContract(`@HandleEvent('${pattern}')`, CONTRACT.events[pattern]?.dto, target, key);
    EventPattern(pattern)(target, key, descriptor as PropertyDescriptor);
  };
}

/**
 * The validation pipe validates a payload against its parameter's class as TypeScript records it
 * (`design:paramtypes`), which the compiler cannot check: a DTO imported with `import type` is
 * recorded as `Function`, whose "rules" refuse every field (`property … should not exist`), and
 * another class would apply other rules than the contract's. Either fails here, when the compiled
 * controller's class is defined: the server does not start, and the message names the fix (ts-jest,
 * compiling file by file, records a type-only import as `Object` and cannot tell). A parameter typed
 * by an interface (`Object`) or none at all is left alone: the pipe does not validate it.
 */
function assertValidatedByTheContract(decorator: string, dto: unknown, target: object, key: string | symbol): void {
  const [recorded] = (Reflect.getMetadata('design:paramtypes', target, key) as unknown[] | undefined) ?? [];
  if (typeof dto !== 'function' || typeof recorded !== 'function' || recorded === Object || recorded === dto) {
    return;
  }
  if (recorded.prototype instanceof dto) {
    return;
  }
  const where = `${decorator} on ${target.constructor.name}.${String(key)}`;
  const fix =
    recorded === Function
      ? `import ${dto.name} as a value (\`import { ${dto.name} }\`, not \`import type\`): TypeScript records a type-only import as Function`
      : `type the parameter as the contract's ${dto.name}`;
  throw new TypeError(`${where}: its payload would be validated against ${recorded.name}, not ${dto.name}; ${fix}`);
}
