import { ConnectionAdmission } from './connection-admission';

describe('ConnectionAdmission', () => {
  let now = 0;
  beforeEach(() => {
    now = 1000;
    jest.spyOn(performance, 'now').mockImplementation(() => now);
  });
  afterEach(() => jest.restoreAllMocks());

  it('admits up to the per-address limit, then refuses that address and still admits others', () => {
    const admission = new ConnectionAdmission({ maxConnections: 100, maxPerAddress: 2 });
    expect(admission.admit('10.0.0.1', jest.fn()).admitted).toBe(true);
    expect(admission.admit('::ffff:10.0.0.1', jest.fn()).admitted).toBe(true);
    expect(admission.admit('10.0.0.1', jest.fn())).toEqual({
      admitted: false,
      limit: 'MAX_CONNECTIONS_PER_ADDRESS',
      key: '10.0.0.1',
      max: 2,
    });
    expect(admission.admit('10.0.0.2', jest.fn()).admitted).toBe(true);
    expect(admission.openConnections).toBe(3);
    expect(admission.openFrom('10.0.0.1')).toBe(2);
  });

  it('counts one IPv6 /64 as one address', () => {
    const admission = new ConnectionAdmission({ maxConnections: 100, maxPerAddress: 1 });
    expect(admission.admit('2001:db8:0:1::a', jest.fn()).admitted).toBe(true);
    expect(admission.admit('2001:db8:0:1::b', jest.fn()).admitted).toBe(false);
    expect(admission.admit('2001:db8:0:2::a', jest.fn()).admitted).toBe(true);
  });

  it('frees a place when a connection is released, once however often it is released', () => {
    const admission = new ConnectionAdmission({ maxConnections: 100, maxPerAddress: 1 });
    const first = admission.admit('10.0.0.1', jest.fn());
    if (!first.admitted) throw new Error('refused');
    admission.release(first.connection);
    admission.release(first.connection);
    expect(admission.openConnections).toBe(0);
    expect(admission.admit('10.0.0.1', jest.fn()).admitted).toBe(true);
    expect(admission.admit('10.0.0.1', jest.fn()).admitted).toBe(false);
  });

  it('at the global cap, makes the longest-idle connection give way to a newcomer', () => {
    const admission = new ConnectionAdmission({ maxConnections: 3, maxPerAddress: 0 });
    const giveWay = [jest.fn(), jest.fn(), jest.fn()];
    const admitted = giveWay.map((callback, index) => {
      now = 1000 + index;
      const admission_ = admission.admit(`10.0.0.${index + 1}`, callback);
      if (!admission_.admitted) throw new Error('refused');
      return admission_.connection;
    });
    // The oldest connection spoke last: the second is now the longest idle.
    now = 2000;
    admitted[0].lastActive = now;
    const newcomer = admission.admit('10.0.0.9', jest.fn());
    expect(newcomer).toMatchObject({ admitted: true, evicted: admitted[1] });
    expect(giveWay.map((callback) => callback.mock.calls.length)).toEqual([0, 1, 0]);
    expect(admission.openConnections).toBe(3);
    expect(admission.openFrom('10.0.0.2')).toBe(0);
  });

  it('refuses an address at its limit even at the global cap, evicting nobody for it', () => {
    const admission = new ConnectionAdmission({ maxConnections: 2, maxPerAddress: 2 });
    const giveWay = jest.fn();
    admission.admit('10.0.0.1', giveWay);
    admission.admit('10.0.0.1', giveWay);
    expect(admission.admit('10.0.0.1', giveWay).admitted).toBe(false);
    expect(giveWay).not.toHaveBeenCalled();
  });

  it('keeps one address from holding more than its share of a full door under a flood', () => {
    const admission = new ConnectionAdmission({ maxConnections: 1000, maxPerAddress: 256 });
    let refused = 0;
    for (let index = 0; index < 4000; index += 1) {
      now += 1;
      if (!admission.admit('127.0.0.1', jest.fn()).admitted) refused += 1;
    }
    expect(refused).toBe(4000 - 256);
    expect(admission.admit('127.0.0.2', jest.fn()).admitted).toBe(true);
  });
});
