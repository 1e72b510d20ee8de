import { createSocket, type Socket } from 'node:dgram';
import { existsSync } from 'node:fs';
import { parseUdpTable, UdpKernelDrops, type KernelTableSource } from './udp-kernel-drops';

const HEADER = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops';
/** A row of /proc/net/udp as Linux writes it. */
function row(sl: number, localAddress: string, inode: number, drops: number): string {
  return `  ${sl}: ${localAddress} 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 ${drops}`;
}

function sourceOf(table: () => string, own: string[] = []): KernelTableSource & { reads: jest.Mock } {
  const reads = jest.fn(table);
  return { readTable: reads, ownSocketInodes: () => new Set(own), reads };
}

describe('parseUdpTable', () => {
  it('reads the port, inode and drops of each row (IPv4 and IPv6), skipping the header and blank lines', () => {
    const table = [HEADER, row(1, '0100007F:1F90', 4711, 3), row(2, '00000000000000000000000001000000:0035', 4712, 0), ''].join('\n');
    expect(parseUdpTable(table)).toEqual([
      { port: 8080, inode: '4711', drops: 3 },
      { port: 53, inode: '4712', drops: 0 },
    ]);
  });
});

describe('UdpKernelDrops', () => {
  it("reads the drops of the socket's row, found by its port, at each read (the table is read per read, not cached)", () => {
    let drops = 0;
    const source = sourceOf(() => [HEADER, row(1, '0100007F:0050', 1, 9), row(2, '0100007F:1F90', 2, drops)].join('\n'));
    const reader = new UdpKernelDrops('udp4', () => 8080, source);
    expect(reader.read()).toBe(0);
    drops = 42;
    expect(reader.read()).toBe(42);
    expect(source.reads).toHaveBeenCalledWith('/proc/self/net/udp');
  });

  it("tells sockets on the same port apart by this process's socket inodes, and reads udp6 for an IPv6 socket", () => {
    const source = sourceOf(() => [HEADER, row(1, '0100007F:1F90', 7, 5), row(2, '0200007F:1F90', 8, 6)].join('\n'), ['8']);
    expect(new UdpKernelDrops('udp6', () => 8080, source).read()).toBe(6);
    expect(source.reads).toHaveBeenCalledWith('/proc/self/net/udp6');
  });

  it('is undefined when it cannot tell: no bound port, no table (not Linux), no row', () => {
    const table = sourceOf(() => [HEADER, row(1, '0100007F:1F90', 7, 5)].join('\n'));
    expect(new UdpKernelDrops('udp4', () => undefined, table).read()).toBeUndefined();
    expect(new UdpKernelDrops('udp4', () => 9999, table).read()).toBeUndefined();
    const missing = sourceOf(() => {
      throw new Error('ENOENT');
    });
    expect(new UdpKernelDrops('udp4', () => 8080, missing).read()).toBeUndefined();
  });

  (existsSync('/proc/self/net/udp') ? it : it.skip)(
    'counts what Linux dropped for a real socket whose receive buffer overflowed while the event loop was busy',
    async () => {
      const receiver = createSocket('udp4');
      const sender = createSocket('udp4');
      try {
        await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
        receiver.setRecvBufferSize(4096); // the smallest Linux allows: a few datagrams
        const reader = new UdpKernelDrops('udp4', () => receiver.address().port);
        expect(reader.read()).toBe(0);
        await new Promise<void>((resolve) => sender.connect(receiver.address().port, '127.0.0.1', resolve));
        // Sent in one turn of the event loop, so the receiver reads none of them meanwhile.
        for (let sent = 0; sent < 200; sent += 1) {
          sender.send(Buffer.alloc(512, 'x'));
        }
        await settled(sender);
        expect(reader.read()).toBeGreaterThan(0);
      } finally {
        receiver.close();
        sender.close();
      }
    },
  );
});

/** Until the sender has handed its queued datagrams to the kernel. */
async function settled(socket: Socket): Promise<void> {
  for (let turns = 0; turns < 50 && socket.getSendQueueCount() > 0; turns += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
