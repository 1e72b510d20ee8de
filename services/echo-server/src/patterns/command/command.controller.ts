import { Controller, Inject, Optional } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { HandlePattern } from '../handle-pattern.decorator';
import { CommandDto, Patterns, type CommandResponse, type ServerContract } from '@echo-pair/common';
import { COMMAND_OBSERVER, type CommandObserver } from '../../core/command-observer';
import { CommandRegistry } from './command-registry.service';

@Controller()
export class CommandController implements Pick<ServerContract, typeof Patterns.COMMAND> {
  constructor(
    private readonly registry: CommandRegistry,
    @Optional() @Inject(COMMAND_OBSERVER) private readonly observer?: CommandObserver,
  ) {}

  @HandlePattern(Patterns.COMMAND)
  async command(@Payload() request: CommandDto): Promise<CommandResponse> {
    const args = request.args ?? [];
    const startedAt = new Date();
    const started = performance.now();
    const output = await this.registry.execute(request.name, args);
    this.observer?.recordCommand(request.name);
    return {
      name: request.name,
      args,
      output,
      startedAt: startedAt.toISOString(),
      durationMs: Number((performance.now() - started).toFixed(3)),
    };
  }
}
