/** Settings the worker no longer reads, and what took their place: set, they would be ignored without a word. */
const RETIRED_SETTINGS: Readonly<Record<string, string>> = {
  CONNECT_BACKOFF_MS: 'the start-up waits between attempts are the reconnect backoff, RECONNECT_BACKOFF_MS',
  CONNECT_BACKOFF_MAX_MS: 'the start-up waits between attempts are the reconnect backoff, RECONNECT_BACKOFF_MAX_MS',
};

/** One warning for each retired setting present in `env`. */
export function retiredSettingWarnings(env: Record<string, string | undefined>): string[] {
  return Object.entries(RETIRED_SETTINGS)
    .filter(([name]) => env[name] !== undefined)
    .map(([name, instead]) => `${name} is no longer used and is ignored: ${instead}`);
}
