import { IsIn, IsObject, IsString } from 'class-validator';
import { JSONSchema } from 'class-validator-jsonschema';
import { ErrorCodes, type ErrorCode, type RpcErrorEnvelope as RpcErrorEnvelopeType } from '../error-envelope';

/**
 * The error envelope (`RpcErrorEnvelope`) as class-validator rules, for its schema in the AsyncAPI
 * document only: the server builds envelopes, it does not validate them. `details` depends on
 * `code` (error-envelope.ts), so its schema is an object.
 */
@JSONSchema({
  description: 'The one shape every error reply has (libs/common/src/contract/error-envelope.ts); `details` depends on `code`.',
})
export class RpcErrorEnvelope implements Pick<RpcErrorEnvelopeType, 'code' | 'message'> {
  @IsIn(Object.values(ErrorCodes))
  code!: ErrorCode;

  @IsString()
  message!: string;

  @IsObject()
  @JSONSchema({
    description: 'Fields of the error, by code: e.g. VALIDATION_FAILED has `violations`, UNKNOWN_COMMAND `command` and `knownCommands`.',
  })
  details!: object;
}
