import { execFileSync } from 'node:child_process';
import type { ImagePullPolicy } from 'testcontainers';

// The container suite runs against the local Docker engine that `npm run bed -- docker` starts, with base images
// built here (nothing can be pulled). Importing this module disables testcontainers' Ryuk reaper, whose image
// cannot be pulled either: every test stops its own containers in afterAll instead.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';

const installHint = 'npm run bed -- docker';

/** Local images built by test/env/docker.sh under the names of the official ones the Dockerfiles use. */
export const baseImages = {
  debian: 'debian:bookworm-slim',
  node: 'node:24-bookworm-slim',
} as const;

/** Never pull: a missing image is a missing prerequisite, reported by requireImage, not a registry round trip. */
export const neverPull: ImagePullPolicy = { shouldPull: () => false };

function docker(args: string[], timeoutMs = 15_000): string {
  return execFileSync('docker', args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Fails loudly (never skips) unless a Docker engine answers; returns its version. */
export function requireDockerEngine(): string {
  try {
    return docker(['version', '--format', '{{.Server.Version}}']).trim();
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
    throw new Error(`prerequisite missing: no Docker engine answers (${detail}); start it with: ${installHint}`);
  }
}

/** Fails loudly unless the image exists locally; returns its id. */
export function requireImage(image: string): string {
  try {
    return docker(['image', 'inspect', '--format', '{{.Id}}', image]).trim();
  } catch {
    throw new Error(`prerequisite missing: local image ${image}; build it with: ${installHint}`);
  }
}

/** The engine and every base image, checked once per test file in beforeAll. */
export function requireContainerBed(images: readonly string[] = Object.values(baseImages)): void {
  requireDockerEngine();
  for (const image of images) requireImage(image);
}

/** Whether a container (by id or name) still exists, running or not: lets tests prove their cleanup. */
export function containerExists(idOrName: string): boolean {
  try {
    docker(['container', 'inspect', '--format', '{{.Id}}', idOrName]);
    return true;
  } catch {
    return false;
  }
}
