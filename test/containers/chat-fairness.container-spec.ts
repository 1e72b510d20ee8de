import type { EchoClient } from '@echo-pair/common';
import { EchoServerPorts, type StartedEchoServerContainer } from '@echo-pair/testcontainers';
import { expectFairFlood } from '../support/chat-flood';
import { readStats } from '../support/client-calls';
import { PeerSet } from '../support/line-peer';
import { Cleanup } from './support/cleanup';
import { echoServerContainer, startContainer } from './support/echo-containers';

/** CHAT_STALL_MS of the container: small, so that the member that never reads is cut off soon. */
const STALL_MS = 2_000;

/**
 * The chat's fairness through Docker's port forwarding, where a flood reaches the server much
 * faster than over plain loopback (the case that cut a reading member off with the flooder):
 * the production image, its text port published on 127.0.0.1.
 */
describe('echo-server container: a chat room throttles its senders, not its readers', () => {
  const cleanup = new Cleanup();
  const peers = new PeerSet();
  let server: StartedEchoServerContainer;
  let client: EchoClient;

  beforeAll(async () => {
    server = await startContainer(
      cleanup,
      echoServerContainer().withEnvironment({ CHAT_STALL_MS: String(STALL_MS), TEXT_WELCOME_DELAY_MS: '60000' }),
    );
    client = await server.connectClient();
    cleanup.add('the stats client', () => client.close());
    cleanup.add('the chat peers', () => peers.destroyAll());
  });

  afterAll(() => cleanup.run());

  it('delivers all 10,000 lines of a flood through the published port to a member reading in fits; cuts off the silent member alone', async () => {
    // The member that never reads connects to the container's own address, not through Docker's
    // proxy: the proxy reads on for it into buffers that grow with the host's tcp_rmem (32 MiB
    // here), which could hold the whole flood, and the server would then see no stall at all.
    const [network] = server.getNetworkNames();
    const measured = await expectFairFlood({
      connect: () => peers.connect(server.getTextPort(), { host: server.getHost() }),
      connectSilent: () => peers.connect(EchoServerPorts.text, { host: server.getIpAddress(network) }),
      readStats: () => readStats(client),
      stallMs: STALL_MS,
    });

    console.info(
      `chat flood through the published port: 10,000 lines of 1 KiB read in ${Math.round(measured.floodMs)} ms; ` +
        `the silent member cut off after ${Math.round(measured.cutOffAfterMs)} ms with ${measured.silentLines} lines read`,
    );
  }, 90_000);
});
