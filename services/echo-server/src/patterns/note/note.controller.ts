import { Controller, Logger } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { HandleEvent } from '../handle-pattern.decorator';
import { Events, NoteDto, type ServerContract } from '@echo-pair/common';

/** The fire-and-forget event: logged, counted by the stats guard, never answered. */
@Controller()
export class NoteController implements Pick<ServerContract, typeof Events.NOTE> {
  private readonly logger = new Logger(NoteController.name);

  @HandleEvent(Events.NOTE)
  note(@Payload() event: NoteDto): void {
    this.logger.log(`note from ${event.author === undefined ? 'anonymous' : JSON.stringify(event.author)}: ${JSON.stringify(event.text)}`);
  }
}
