import { posix } from 'node:path';

/** Where the certificate files are copied inside the container, as docker-compose.tls.yml mounts them. */
export const CONTAINER_TLS_DIR = '/run/tls';

/** The server's side of TLS: paths on the host of PEM files, copied into the container. */
export interface EchoServerTlsFiles {
  /** The server's certificate (chain), leaf first. */
  certFile: string;
  /** Its private key, unencrypted. */
  keyFile: string;
  /**
   * The CA that signed the server's certificate: the client of `getClientOptions()` trusts it,
   * and the image's healthcheck verifies the server against it. Without it, both use the
   * system's CAs (a certificate from a public CA).
   */
  caFile?: string;
  /**
   * The name the client checks the server's certificate for; by default the host it connects
   * to (127.0.0.1), which the development certificates of scripts/gen-dev-certs.sh carry.
   */
  certificateName?: string;
}

/** Mutual TLS: the server refuses clients without a certificate of `caFile`; the client presents its own. */
export interface EchoServerMutualTlsFiles extends EchoServerTlsFiles {
  /** The CA that signs the client certificates (and, here, the server's). */
  caFile: string;
  /** The certificate the client of `getClientOptions()` presents, signed by `caFile`. */
  clientCertFile: string;
  /** Its private key, unencrypted. */
  clientKeyFile: string;
}

/** What the client needs to speak TLS to the server: paths on the host. */
export interface ClientTlsFiles {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  certificateName?: string;
}

/** A file copied into the container: readable by the image's `node` user (uid 1000). */
interface TlsFileCopy {
  source: string;
  target: string;
  mode: number;
}

/** What a TLS setting amounts to: the server's variables, the files they name, and the client's side. */
export interface TlsSetup {
  environment: Record<string, string>;
  files: TlsFileCopy[];
  client: ClientTlsFiles;
}

/** Development keys for tests: readable by the container's `node` user whoever owns them on the host. */
const FILE_MODE = 0o644;

/**
 * The TLS_* variables of the server (see its configuration), the files they name, copied
 * under /run/tls, and what the client needs: one-way TLS with `mutual: false`, mutual TLS
 * (TLS_REQUIRE_CLIENT_CERT=true, a client certificate) with `mutual: true`.
 */
export function tlsSetup(files: EchoServerTlsFiles | EchoServerMutualTlsFiles, mutual: boolean): TlsSetup {
  const target = (name: string): string => posix.join(CONTAINER_TLS_DIR, name);
  const copies: TlsFileCopy[] = [
    { source: files.certFile, target: target('server.crt'), mode: FILE_MODE },
    { source: files.keyFile, target: target('server.key'), mode: FILE_MODE },
  ];
  const environment: Record<string, string> = {
    TLS_CERT_FILE: target('server.crt'),
    TLS_KEY_FILE: target('server.key'),
    TLS_REQUIRE_CLIENT_CERT: String(mutual),
  };
  if (files.caFile !== undefined) {
    copies.push({ source: files.caFile, target: target('ca.crt'), mode: FILE_MODE });
    environment.TLS_CA_FILE = target('ca.crt');
  }
  const client: ClientTlsFiles = {
    ...(files.caFile === undefined ? {} : { caFile: files.caFile }),
    ...(files.certificateName === undefined ? {} : { certificateName: files.certificateName }),
  };
  if (mutual) {
    const { clientCertFile, clientKeyFile } = files as EchoServerMutualTlsFiles;
    if (files.caFile === undefined || clientCertFile === undefined || clientKeyFile === undefined) {
      throw new TypeError('mutual TLS needs caFile, clientCertFile and clientKeyFile');
    }
    client.certFile = clientCertFile;
    client.keyFile = clientKeyFile;
  }
  return { environment, files: copies, client };
}
