import type { Type } from '@nestjs/common';
import type { Socket } from 'node:net';
import { FramedJsonSocket } from './framed-json-socket';
import { resolveFramedJsonSocketOptions, type FramedJsonSocketOptions } from './framed-json-socket-options';

/** A `socketClass` for Nest's TCP transport (server or client) with these limits: Nest builds it with the socket only. */
export function framedJsonSocket(options?: FramedJsonSocketOptions): Type<FramedJsonSocket> {
  const settings = resolveFramedJsonSocketOptions(options);
  return class ConfiguredFramedJsonSocket extends FramedJsonSocket {
    constructor(socket: Socket) {
      super(socket, settings);
    }
  };
}
