import { DiscoveryService } from '@nestjs/core';
import type { CommandMetadata } from './command-handler';

/**
 * Marks a provider as a command. Add the class to `CommandModule`'s providers
 * and the registry finds it; nothing else needs to change.
 */
export const Command = DiscoveryService.createDecorator<CommandMetadata>();
