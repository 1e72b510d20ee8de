/**
 * The public API of @echo-pair/common: what a template user and the two services need, by name.
 * Anything not listed here is internal. libs/common/etc/common.api.md records this surface;
 * `npm run lint` fails when it changes without the report (`npm run api:report` updates it).
 */

// The wire contract: patterns, requests, responses, DTOs, limits and error envelopes.
export { type AsyncApiDocument, contractAsyncApi } from './contract/asyncapi/contract-asyncapi';
export { type CommandRequest, type CommandResponse } from './contract/command.types';
export { CommandDto } from './contract/dto/command.dto';
export { CommandResponseDto } from './contract/dto/command-response.dto';
export { EchoDto } from './contract/dto/echo.dto';
export { EchoResponseDto } from './contract/dto/echo-response.dto';
export { HelloDto } from './contract/dto/hello.dto';
export { HelloResponseDto } from './contract/dto/hello-response.dto';
export { NoteDto } from './contract/dto/note.dto';
export { type EchoRequest, type EchoResponse } from './contract/echo.types';
export { type ErrorCode, ErrorCodes, type FieldViolation, type RpcErrorEnvelope, isRpcErrorEnvelope } from './contract/error-envelope';
export { type CommandDescriptor, type HelloRequest, type ServerLimits } from './contract/hello.types';
export { InvalidConfigurationError } from './contract/invalid-configuration.error';
export { type NoteEvent } from './contract/note.types';
export { EVENT_PATTERNS, type EventPattern, Events, Patterns, REQUEST_PATTERNS, type RequestPattern } from './contract/patterns';
export { type ServerStats, type TransportStats } from './contract/server-stats.types';
export { SOCKET_REJECTION_REASONS, type SocketRejection, type SocketRejectionReason } from './contract/socket-rejection';
export { type TextLine, parseTextLine } from './contract/text/line-syntax';
export { buildMixedScriptText, shortSha256 } from './contract/text/mixed-script-text';
export { measureText } from './contract/text/text-measures';
export {
  TRANSPORT_NAMES,
  type TransportName,
  Transports,
  UDP_DROP_REASONS,
  UDP_HEADER_BYTES,
  UDP_MIN_REQUEST_BYTES,
  UDP_REPLY_FACTOR,
  type UdpDropReason,
  udpReplyAllowance,
} from './contract/transports';
export { compiledValidatorFor } from './contract/validation/compiled-validator';
export {
  CONTRACT,
  type EventOf,
  type HelloResponse,
  type RequestOf,
  type RequestUnit,
  type ResponseOf,
  type ServerContract,
  eventExampleOf,
  requestExampleOf,
} from './contract/wire-contract';
export { COMMAND_NAME_PATTERN, MIN_FRAME_LENGTH, TransportDefaults, WireLimits } from './contract/wire-limits';

// Framing: the framed socket, UDP datagrams, peers, trace context in packets.
export { requestDatagramBytes } from './transport/udp-datagram';
export { CLOSE_GRACE_MS, destroyUnlessClosed } from './transport/destroy-unless-closed';
export { formatPeer } from './transport/format-peer';
export { type FramedJsonSocketOptions } from './transport/framed-json-socket-options';
export { FramedJsonSocket } from './transport/framed-json-socket';
export { framedJsonSocket } from './transport/framed-json-socket.factory';
export { OK_OUTCOME, RPC_SYSTEM_NAME, TraceAttributes } from './transport/trace-context/trace-attributes';
export { extractTraceContext } from './transport/trace-context/trace-metadata';
export { activeTracer } from './transport/trace-context/tracing-state';

// The client: EchoClient, its Nest module and options, its errors.
export { backoffDelayMs } from './client/backoff';
export { type ConnectFailure, type ConnectionState, type EchoClientConnectionInfo, type ReplicaInfo } from './client/connection-info';
export { describeError } from './client/describe-error';
export { type EchoClientApi } from './client/echo-client-api';
export {
  type BackoffOptions,
  type CallListener,
  type CallOptions,
  type EchoClientOptions,
  type EchoClientProtocol,
  type HostResolver,
  type RequestOptions,
  type WhenDisconnected,
} from './client/echo-client-options';
export { ECHO_CLIENT_OPTIONS } from './client/echo-client.constants';
export { EchoClientModule } from './client/echo-client.module';
export { EchoClient } from './client/echo-client';
export { ClientErrorCodes, RpcClientError, type RpcClientErrorCode } from './client/rpc-client.error';

// Operations: settings, logging, metrics, shutdown, TLS, tracing.
export { BooleanSetting } from './operations/config/boolean-setting.decorator';
export { IntegerSetting } from './operations/config/integer-setting.decorator';
export { LoggingEnvironment } from './operations/config/logging-environment';
export { validateEnvironment } from './operations/config/validate-environment';
export { validatedConfigModule } from './operations/config/validated-config.module';
export { consoleLoggerFromEnvironment, createConsoleLogger } from './operations/logging/create-console-logger';
export { LOG_LEVELS } from './operations/logging/log-settings';
export { ServiceConsoleLogger } from './operations/logging/service-console-logger';
export { createMetricsRegistry } from './operations/metrics/metrics-registry';
export { type SignalTarget, onShutdownSignals } from './operations/shutdown/shutdown-signals';
export { RequiresAlso } from './operations/tls/requires-also.decorator';
export { readTlsFiles, tlsFilePathsOf } from './operations/tls/tls-files';
export { type TlsHandshakeRefusal, TlsPeerMemory, describeTlsClientError } from './operations/tls/tls-handshake-refusal';
export { clientTlsOptions, serverTlsOptions } from './operations/tls/tls-options';
export { startTracing, startTracingFromEnvironment } from './operations/tracing/start-tracing';
export { type Tracing } from './operations/tracing/tracing';
