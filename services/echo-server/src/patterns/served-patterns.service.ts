import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { PATTERN_HANDLER_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import { EVENT_PATTERNS, REQUEST_PATTERNS, type EventPattern, type RequestPattern } from '@echo-pair/common';

/** Nest's `PatternHandler.EVENT`, as its decorators store it. */
const EVENT_HANDLER = 2;

/**
 * The patterns the server's controllers actually handle, read from Nest's own handler metadata
 * at start-up, which `hello` reports. Start-up fails, naming them, when a pattern of the contract
 * has no handler or a handler serves a pattern the contract lacks.
 */
@Injectable()
export class ServedPatterns implements OnModuleInit {
  private served: { requests: RequestPattern[]; events: EventPattern[] } = { requests: [], events: [] };

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  get requests(): readonly RequestPattern[] {
    return this.served.requests;
  }

  get events(): readonly EventPattern[] {
    return this.served.events;
  }

  onModuleInit(): void {
    const requests = new Set<string>();
    const events = new Set<string>();
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance) {
        continue;
      }
      for (const name of this.scanner.getAllMethodNames(Object.getPrototypeOf(instance) as object)) {
        const method = instance[name] as object;
        const patterns = Reflect.getMetadata(PATTERN_METADATA, method) as unknown[] | undefined;
        const kind = Reflect.getMetadata(PATTERN_HANDLER_METADATA, method) as number | undefined;
        for (const pattern of patterns ?? []) {
          (kind === EVENT_HANDLER ? events : requests).add(String(pattern));
        }
      }
    }
    assertServesTheContract(requests, events);
    this.served = {
      requests: REQUEST_PATTERNS.filter((pattern) => requests.has(pattern)),
      events: EVENT_PATTERNS.filter((pattern) => events.has(pattern)),
    };
  }
}

function assertServesTheContract(requests: ReadonlySet<string>, events: ReadonlySet<string>): void {
  const problems = [
    ...REQUEST_PATTERNS.filter((pattern) => !requests.has(pattern)).map((pattern) => `request pattern "${pattern}" has no handler`),
    ...EVENT_PATTERNS.filter((pattern) => !events.has(pattern)).map((pattern) => `event pattern "${pattern}" has no handler`),
    ...[...requests]
      .filter((pattern) => !(REQUEST_PATTERNS as readonly string[]).includes(pattern))
      .map((pattern) => `a handler serves "${pattern}", which the contract has no request pattern for`),
    ...[...events]
      .filter((pattern) => !(EVENT_PATTERNS as readonly string[]).includes(pattern))
      .map((pattern) => `a handler serves event "${pattern}", which the contract has no event pattern for`),
  ];
  if (problems.length > 0) {
    throw new Error(`the server does not match the wire contract: ${problems.join('; ')}`);
  }
}
