import { getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { Cleanup } from './support/cleanup';
import { startComposeProject } from './support/compose-project';
import { createClient, LOOPBACK } from './support/echo-containers';
import { IMAGES, SERVER_PORT, uniqueName } from './support/test-run';

const STARTUP_MS = 120_000;
/** The server's DRAIN_TIMEOUT_MS default plus the 1 s close grace: `stop_grace_period` must exceed it. */
const DRAIN_AND_CLOSE_S = 11;

/** Tries to write a file in each directory; prints `{ dir: 'ok' | error code }` as JSON. */
const WRITE_PROBE = `
const fs = require('node:fs');
const result = {};
for (const dir of ['/', '/app', '/tmp']) {
  try { fs.writeFileSync(dir.replace(/\\/?$/, '/write-probe'), 'x'); result[dir] = 'ok'; } catch (error) { result[dir] = error.code; }
}
process.stdout.write(JSON.stringify(result));
`;

/**
 * The server service of the real docker-compose.yml, with the image the global setup
 * built (no second build), under a project name of this run: its hardening holds inside
 * the running container, and it still serves.
 */
describe('docker-compose.yml hardening of the echo-server', () => {
  const cleanup = new Cleanup();
  const projectName = uniqueName('hardening');
  const environment = {
    ECHO_PUBLISH_ADDRESS: LOOPBACK,
    ECHO_PUBLISHED_PORT: '0',
    TEXT_PUBLISHED_PORT: '0',
    UDP_PUBLISHED_PORT: '0',
    METRICS_PUBLISHED_PORT: '0',
    ECHO_SERVER_IMAGE: IMAGES.echoServer.tag,
    CLIENT_WORKER_IMAGE: IMAGES.clientWorker.tag,
  };
  let server: StartedTestContainer;

  beforeAll(async () => {
    server = await startComposeProject(cleanup, { projectName, environment, services: ['echo-server'], startupTimeoutMs: STARTUP_MS });
  });

  afterAll(() => cleanup.run());

  it('runs as a non-root user', async () => {
    const { exitCode, stdout } = await server.exec(['node', '-e', 'process.stdout.write(String(process.getuid()))']);

    expect(exitCode).toBe(0);
    expect(Number(stdout)).not.toBe(0);
  });

  it('has a read-only root file system and a writable /tmp', async () => {
    const { exitCode, stdout, stderr } = await server.exec(['node', '-e', WRITE_PROBE]);

    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: '' });
    expect(JSON.parse(stdout)).toEqual({ '/': 'EROFS', '/app': 'EROFS', '/tmp': 'ok' });
  });

  it('drops every capability, forbids privilege escalation, limits memory and processes, restarts unless stopped', async () => {
    const { HostConfig, Config } = await (await getContainerRuntimeClient()).container.getById(server.getId()).inspect();

    expect(HostConfig).toMatchObject({
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: expect.arrayContaining(['no-new-privileges:true']) as string[],
      Init: true,
      RestartPolicy: expect.objectContaining({ Name: 'unless-stopped' }) as object,
    });
    expect(HostConfig.CapAdd ?? []).toEqual([]);
    expect(HostConfig.Memory).toBeGreaterThan(0);
    expect(HostConfig.PidsLimit).toBeGreaterThan(0);
    // `stop_grace_period`, in seconds (the engine's type definitions leave this field out).
    expect((Config as { StopTimeout?: number }).StopTimeout).toBeGreaterThan(DRAIN_AND_CLOSE_S);
  });

  it('still answers hello through the published port', async () => {
    const hello = await createClient(cleanup, server.getMappedPort(SERVER_PORT)).hello({ client: 'hardening-spec' });

    expect(hello.server).toBe('echo-server');
  });
});
