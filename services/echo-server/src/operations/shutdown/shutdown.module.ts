import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ConnectionsModule } from '../connections/connections.module';
import { DrainGuard } from './drain.guard';
import { DrainService } from './drain.service';

@Module({
  imports: [ConnectionsModule],
  providers: [DrainService, { provide: APP_GUARD, useClass: DrainGuard }],
  exports: [DrainService],
})
export class ShutdownModule {}
