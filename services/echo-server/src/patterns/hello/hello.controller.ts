import { Controller, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Payload } from '@nestjs/microservices';
import { HandlePattern } from '../handle-pattern.decorator';
import { HelloDto, Patterns, WireLimits, type HelloResponse, type ServerContract, type ServerLimits } from '@echo-pair/common';
import { CommandRegistry } from '../command/command-registry.service';
import { ServedPatterns } from '../served-patterns.service';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { HEALTHCHECK_CLIENT, SERVER_INSTANCE, SERVER_VERSION } from '../../core/server-identity';

@Controller()
export class HelloController implements Pick<ServerContract, typeof Patterns.HELLO> {
  private readonly logger = new Logger(HelloController.name);
  private readonly serverName: string;
  private readonly limits: ServerLimits;

  constructor(
    private readonly registry: CommandRegistry,
    private readonly served: ServedPatterns,
    config: ConfigService<EchoServerEnvironment, true>,
  ) {
    this.serverName = config.get('SERVER_NAME', { infer: true });
    this.limits = {
      ...WireLimits,
      maxMessageLength: config.get('MAX_MESSAGE_LENGTH', { infer: true }),
      incompleteMessageTimeoutMs: config.get('INCOMPLETE_MESSAGE_TIMEOUT_MS', { infer: true }),
      sleepMaxMs: config.get('SLEEP_MAX_MS', { infer: true }),
    };
  }

  @HandlePattern(Patterns.HELLO)
  hello(@Payload() request: HelloDto): HelloResponse {
    const line = `hello from ${request.client === undefined ? 'an unnamed client' : JSON.stringify(request.client)}`;
    // The container's healthcheck says hello every few seconds: not news at the default level.
    if (request.client === HEALTHCHECK_CLIENT) {
      this.logger.debug(line);
    } else {
      this.logger.log(line);
    }
    const commands = this.registry.describe();
    return {
      // The patterns as the controllers serve them (no name written here): a pattern added to the contract shows up by itself.
      welcome:
        `Welcome to ${this.serverName} ${SERVER_VERSION} on ${SERVER_INSTANCE}! ` +
        `Request patterns: ${this.served.requests.join(', ')}; event patterns: ${this.served.events.join(', ')}; ` +
        `commands: ${commands.map((command) => command.name).join(', ')}.`,
      server: this.serverName,
      version: SERVER_VERSION,
      instance: SERVER_INSTANCE,
      serverTime: new Date().toISOString(),
      // What the controllers actually handle, as found at start-up (which fails if it is not the whole contract).
      patterns: { requests: [...this.served.requests], events: [...this.served.events] },
      commands,
      limits: this.limits,
    };
  }
}
