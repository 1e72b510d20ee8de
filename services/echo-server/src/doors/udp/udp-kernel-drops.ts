import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Where the table is read, and this process's socket inodes (replaced in the spec). */
export interface KernelTableSource {
  readTable(path: string): string;
  ownSocketInodes(): Set<string>;
}

interface SocketRow {
  port: number;
  inode: string;
  drops: number;
}

const PROC: KernelTableSource = {
  readTable: (path) => readFileSync(path, 'latin1'),
  ownSocketInodes: () => {
    const inodes = new Set<string>();
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
        if (match !== null) {
          inodes.add(match[1]);
        }
      } catch {
        // closed meanwhile
      }
    }
    return inodes;
  },
};

/**
 * The kernel's count of the datagrams it dropped for one UDP socket before the server read them
 * (its receive buffer full, mostly): the `drops` column of the socket's row in /proc/net/udp
 * (/proc/net/udp6 for an IPv6 socket), read when asked (at scrape time), never per datagram. The
 * row is found once by the socket's local port, and among several rows on that port by the socket
 * inodes this process holds. `undefined` where it cannot be read: not Linux, no /proc, no such row.
 */
export class UdpKernelDrops {
  private inode: string | undefined;

  constructor(
    private readonly family: 'udp4' | 'udp6',
    /** The socket's bound port, or undefined before it is bound or once it is closed. */
    private readonly port: () => number | undefined,
    private readonly source: KernelTableSource = PROC,
  ) {}

  read(): number | undefined {
    const port = this.port();
    if (port === undefined) {
      return undefined;
    }
    let rows: SocketRow[];
    try {
      rows = parseUdpTable(this.source.readTable(this.family === 'udp6' ? '/proc/self/net/udp6' : '/proc/self/net/udp'));
    } catch {
      return undefined;
    }
    let row = this.inode === undefined ? undefined : rows.find(({ inode }) => inode === this.inode);
    if (row === undefined) {
      row = this.find(rows.filter((candidate) => candidate.port === port));
      this.inode = row?.inode;
    }
    return row?.drops;
  }

  private find(onPort: SocketRow[]): SocketRow | undefined {
    if (onPort.length <= 1) {
      return onPort[0];
    }
    try {
      const own = this.source.ownSocketInodes();
      return onPort.find(({ inode }) => own.has(inode));
    } catch {
      return undefined;
    }
  }
}

/**
 * The rows of /proc/net/udp or udp6: `sl local_address rem_address st tx_queue:rx_queue tr:tm->when
 * retrnsmt uid timeout inode ref pointer drops`, the local address as hex `ADDRESS:PORT`.
 */
export function parseUdpTable(text: string): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 13) {
      continue;
    }
    const port = Number.parseInt(fields[1].slice(fields[1].lastIndexOf(':') + 1), 16);
    const drops = Number(fields[12]);
    if (Number.isInteger(port) && Number.isSafeInteger(drops)) {
      rows.push({ port, inode: fields[9], drops });
    }
  }
  return rows;
}
