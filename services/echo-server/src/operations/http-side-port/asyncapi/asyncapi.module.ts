import { Module } from '@nestjs/common';
import { AsyncApiController } from './asyncapi.controller';

/** The published contract: `GET /asyncapi.json` (docs/contract.md, "The published contract"). */
@Module({ controllers: [AsyncApiController] })
export class AsyncApiModule {}
