import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseImages, containerExists, neverPull, requireContainerBed } from '../support/docker.ts';

// Proves the container part of the bed is real: testcontainers drives the local engine and runs commands in the
// locally built base images (no registry involved).
describe('container bed smoke', () => {
  const started: StartedTestContainer[] = [];

  beforeAll(() => {
    requireContainerBed();
  });

  afterAll(async () => {
    await Promise.all(started.map((container) => container.stop({ remove: true, timeout: 1_000 })));
  });

  async function start(image: string): Promise<StartedTestContainer> {
    const container = await new GenericContainer(image)
      .withPullPolicy(neverPull)
      .withCommand(['sleep', '300'])
      .withStartupTimeout(60_000)
      .start();
    started.push(container);
    return container;
  }

  it('runs a command in debian:bookworm-slim and reads its output', async () => {
    const container = await start(baseImages.debian);
    const result = await container.exec(['sh', '-c', '. /etc/os-release && echo "$ID $VERSION_CODENAME" && id -u']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual(['debian bookworm', '0']);
    const failing = await container.exec(['sh', '-c', 'echo broken >&2; exit 3']);
    expect(failing.exitCode).toBe(3);
    expect(failing.stderr.trim()).toBe('broken');
  });

  it('runs Node 24 and npm in node:24-bookworm-slim', async () => {
    const container = await start(baseImages.node);
    const node = await container.exec(['node', '-p', 'process.versions.node.split(".")[0]']);
    expect(node.exitCode).toBe(0);
    expect(node.stdout.trim()).toBe('24');
    const npm = await container.exec(['npm', '--version']);
    expect(npm.exitCode).toBe(0);
    expect(npm.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const user = await container.exec(['id', '-u', 'node']);
    expect(user.stdout.trim()).toBe('1000');
  });

  it('removes a stopped container (what every container test relies on without Ryuk)', async () => {
    const container = await new GenericContainer(baseImages.debian)
      .withPullPolicy(neverPull)
      .withCommand(['sleep', '300'])
      .start();
    const id = container.getId();
    expect(containerExists(id)).toBe(true);
    await container.stop({ remove: true, timeout: 1_000 });
    expect(containerExists(id)).toBe(false);
  });
});
