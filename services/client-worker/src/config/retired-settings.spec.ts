import { retiredSettingWarnings } from './retired-settings';

describe('retiredSettingWarnings', () => {
  it('names each retired setting that is set, and what replaced it', () => {
    expect(retiredSettingWarnings({ CONNECT_BACKOFF_MS: '200', CONNECT_ATTEMPTS: '10', RECONNECT_BACKOFF_MS: '100' })).toEqual([
      'CONNECT_BACKOFF_MS is no longer used and is ignored: the start-up waits between attempts are the reconnect backoff, RECONNECT_BACKOFF_MS',
    ]);
  });

  it('says nothing when none is set', () => {
    expect(retiredSettingWarnings({ CONNECT_ATTEMPTS: '10' })).toEqual([]);
  });
});
