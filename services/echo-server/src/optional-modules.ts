/**
 * The server's optional capabilities, one line each. To remove one, delete its line here and
 * the folder it names; docs/removable-modules.md lists them, and `npm test` checks each removal.
 */
export { TextGatewayModule } from './doors/text-gateway/text-gateway.module';
export { UdpModule } from './doors/udp/udp.module';
export { HttpSidePortModule } from './operations/http-side-port/http-side-port.module';
export { TracingModule } from './operations/tracing/tracing.module';
export { TlsModule } from './doors/tls/tls.module';
