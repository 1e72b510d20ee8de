import { RpcException } from '@nestjs/microservices';
import type { RpcErrorEnvelope } from '@echo-pair/common';

/** An `RpcException` that carries the contract's error envelope as is. */
export class RpcEnvelopeException extends RpcException {
  constructor(readonly envelope: RpcErrorEnvelope) {
    super(envelope);
  }
}
