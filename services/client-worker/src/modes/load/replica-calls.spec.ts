import { FakeEchoClient } from '../../testing/fake-echo-client';
import { ReplicaCallsTally, type ReplicaCalls } from './replica-calls';

describe('ReplicaCallsTally', () => {
  /** A client whose `connectionInfo().replicas` are whatever the test sets in `now`. */
  function clientWith(now: { replicas: ReplicaCalls[] }): FakeEchoClient {
    const client = new FakeEchoClient();
    client.replicas = () => now.replicas;
    return client;
  }

  it('adds up the calls of each address over every client, in numeric order of the addresses', () => {
    const tally = new ReplicaCallsTally();
    const first = clientWith({
      replicas: [
        { address: '10.0.0.10', calls: 5, failures: 1 },
        { address: '10.0.0.9', calls: 7, failures: 0 },
      ],
    });
    const second = clientWith({ replicas: [{ address: '10.0.0.9', calls: 3, failures: 2 }] });

    tally.sample([first.asEchoClient(), second.asEchoClient()]);

    expect(tally.totals()).toEqual([
      { address: '10.0.0.9', calls: 10, failures: 2 },
      { address: '10.0.0.10', calls: 5, failures: 1 },
    ]);
  });

  it('keeps what a replica carried once its client has dropped it', () => {
    const tally = new ReplicaCallsTally();
    const now = {
      replicas: [
        { address: '10.0.0.1', calls: 40, failures: 0 },
        { address: '10.0.0.2', calls: 38, failures: 0 },
      ],
    };
    const client = clientWith(now);
    tally.sample([client.asEchoClient()]);

    // 10.0.0.2 failed twice more, then left the name's answer; 10.0.0.3 took its place.
    now.replicas = [
      { address: '10.0.0.1', calls: 45, failures: 0 },
      { address: '10.0.0.2', calls: 40, failures: 2 },
    ];
    tally.sample([client.asEchoClient()]);
    now.replicas = [
      { address: '10.0.0.1', calls: 60, failures: 0 },
      { address: '10.0.0.3', calls: 12, failures: 0 },
    ];
    tally.sample([client.asEchoClient()]);

    expect(tally.totals()).toEqual([
      { address: '10.0.0.1', calls: 60, failures: 0 },
      { address: '10.0.0.2', calls: 40, failures: 2 },
      { address: '10.0.0.3', calls: 12, failures: 0 },
    ]);
  });

  it('adds the new count of an address that came back to what it carried before', () => {
    const tally = new ReplicaCallsTally();
    const now = { replicas: [{ address: '10.0.0.1', calls: 30, failures: 1 }] };
    const client = clientWith(now);
    tally.sample([client.asEchoClient()]);

    // Dropped and added again between two samples: its counts started from 0 again.
    now.replicas = [{ address: '10.0.0.1', calls: 4, failures: 0 }];
    tally.sample([client.asEchoClient()]);
    now.replicas = [{ address: '10.0.0.1', calls: 9, failures: 0 }];
    tally.sample([client.asEchoClient()]);

    expect(tally.totals()).toEqual([{ address: '10.0.0.1', calls: 39, failures: 1 }]);
  });

  it('has nothing before the first sample', () => {
    expect(new ReplicaCallsTally().totals()).toEqual([]);
  });
});
