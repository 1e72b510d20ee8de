import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { InvalidConfigurationError } from '../config/validate-environment';

/** Paths of the PEM files, as the services' TLS_* variables give them. */
export interface TlsFilePaths {
  /** Certificate (chain), leaf first; needs `keyFile`. */
  certFile?: string;
  /** Unencrypted private key of the certificate. */
  keyFile?: string;
  /** One or more CA certificates that peers' certificates must chain to. */
  caFile?: string;
}

/** The PEM text of the files, checked: every certificate parses, the key is the certificate's. */
export interface TlsMaterial {
  cert?: string;
  key?: string;
  ca?: string;
}

/** The variable each path comes from, named in error messages. */
const TLS_FILE_VARIABLES: Readonly<Record<keyof TlsFilePaths, string>> = {
  certFile: 'TLS_CERT_FILE',
  keyFile: 'TLS_KEY_FILE',
  caFile: 'TLS_CA_FILE',
};

/** The TLS_* file variables of a service's environment. */
export interface TlsFileVariables {
  TLS_CERT_FILE?: string;
  TLS_KEY_FILE?: string;
  TLS_CA_FILE?: string;
}

export function tlsFilePathsOf(environment: TlsFileVariables): TlsFilePaths {
  return { certFile: environment.TLS_CERT_FILE, keyFile: environment.TLS_KEY_FILE, caFile: environment.TLS_CA_FILE };
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads and checks the PEM files, so that a bad file stops the process at start-up with
 * one message naming the variable, not a TLS failure on the first connection. Throws
 * `InvalidConfigurationError` listing every problem: unreadable, not PEM, not parseable,
 * expired, or a key that does not belong to the certificate.
 */
export function readTlsFiles(paths: TlsFilePaths, now: Date = new Date()): TlsMaterial {
  const problems: string[] = [];
  const read = (name: keyof TlsFilePaths): string | undefined => {
    const path = paths[name];
    if (path === undefined) {
      return undefined;
    }
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      problems.push(problem(name, path, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`));
      return undefined;
    }
  };
  const material: TlsMaterial = { cert: read('certFile'), key: read('keyFile'), ca: read('caFile') };

  const certificates = material.cert === undefined ? undefined : parseCertificates('certFile', material.cert);
  const key = material.key === undefined ? undefined : parseKey(material.key);
  if (material.ca !== undefined) {
    parseCertificates('caFile', material.ca);
  }
  if (certificates?.[0] !== undefined && key !== undefined && !certificates[0].checkPrivateKey(key)) {
    problems.push(problem('keyFile', paths.keyFile, `is not the key of the certificate in ${TLS_FILE_VARIABLES.certFile}`));
  }
  if (problems.length > 0) {
    throw new InvalidConfigurationError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return material;

  function parseCertificates(name: 'certFile' | 'caFile', pem: string): X509Certificate[] | undefined {
    const blocks = pem.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) {
      problems.push(problem(name, paths[name], 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)'));
      return undefined;
    }
    const parsed: X509Certificate[] = [];
    for (const [index, block] of blocks.entries()) {
      try {
        parsed.push(new X509Certificate(block));
      } catch (error) {
        problems.push(problem(name, paths[name], `certificate ${index + 1} does not parse (${(error as Error).message})`));
        return undefined;
      }
    }
    // The leaf's expiry is the usual cause of "it worked yesterday"; say so at start-up.
    const leaf = parsed[0];
    if (name === 'certFile' && leaf.validToDate < now) {
      problems.push(problem(name, paths[name], `certificate ${leaf.subject.replace(/\n/g, ', ')} expired on ${leaf.validTo}`));
    }
    return parsed;
  }

  function parseKey(pem: string): KeyObject | undefined {
    try {
      return createPrivateKey(pem);
    } catch (error) {
      const encrypted = /ENCRYPTED/.test(pem) ? ' (encrypted keys are not supported)' : '';
      problems.push(problem('keyFile', paths.keyFile, `holds no usable private key${encrypted}: ${(error as Error).message}`));
      return undefined;
    }
  }
}

function problem(name: keyof TlsFilePaths, path: string | undefined, what: string): string {
  return `  - ${TLS_FILE_VARIABLES[name]}=${JSON.stringify(path)}: ${what}`;
}
