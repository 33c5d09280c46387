import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neverPull } from '../support/docker.ts';
import { freePort } from '../support/ports.ts';
import {
  AGENT_IMAGE,
  buildImage,
  docker,
  imageSizeBytes,
  OPERATOR_IMAGE,
  removeContainers,
  runCommand,
  uniqueName,
  waitFor,
} from './support.ts';

// Both images build from this tree with plain `docker build`; what they contain and how they run, checked without
// a VM (the agent's VM is exercised in agent.test.ts). Sizes are printed for docs/install.md.

/** testcontainers has no read-only switch; HostConfig.ReadonlyRootfs is what `docker run --read-only` sets. */
class ReadOnlyContainer extends GenericContainer {
  withReadOnlyRoot(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6)} MB`;

/** `docker run --rm --entrypoint <entrypoint> image args...`: for looking inside an image. */
function inImage(image: string, entrypoint: string, args: string[], extra: string[] = []) {
  return runCommand('docker', ['run', '--rm', ...extra, '--entrypoint', entrypoint, image, ...args], 120_000);
}

describe('images', () => {
  beforeAll(() => {
    const agentSeconds = buildImage('Dockerfile.agent', AGENT_IMAGE);
    const operatorSeconds = buildImage('Dockerfile.operator', OPERATOR_IMAGE);
    process.stdout.write(
      `image sizes: ${AGENT_IMAGE} ${mb(imageSizeBytes(AGENT_IMAGE))} (build ${agentSeconds.toFixed(0)} s), ` +
        `${OPERATOR_IMAGE} ${mb(imageSizeBytes(OPERATOR_IMAGE))} (build ${operatorSeconds.toFixed(0)} s)\n`,
    );
  });

  describe('agent image', () => {
    it('has QEMU with the curl block driver, qemu-img, OVMF, iPXE ROMs, iproute2 and tini; no npm', () => {
      const r = inImage(AGENT_IMAGE, 'sh', [
        '-c',
        [
          'qemu-system-x86_64 --version | head -1',
          'qemu-img --version | head -1',
          'ls /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd /usr/lib/ipxe/qemu/efi-virtio.rom',
          'ls /usr/lib/x86_64-linux-gnu/qemu/block-curl.so',
          'ip -V',
          'tini --version',
          'node --version',
          'command -v npm || echo no-npm',
        ].join(' && '),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^QEMU emulator version \d+/m);
      expect(r.stdout).toMatch(/^qemu-img version \d+/m);
      expect(r.stdout).toContain('efi-virtio.rom');
      expect(r.stdout).toContain('block-curl.so');
      expect(r.stdout).toMatch(/^ip utility, iproute2/m);
      expect(r.stdout).toMatch(/^tini version/m);
      expect(r.stdout).toMatch(/^v24\./m);
      expect(r.stdout).toMatch(/^no-npm$/m);
    });

    it('QEMU loads the curl driver (http:// virtual media) and knows the q35 machine and ipmi-bmc-extern', () => {
      // A refused connection proves the http protocol driver was found and tried; an unknown protocol says so.
      const curlDriver = inImage(AGENT_IMAGE, 'qemu-img', ['info', 'http://127.0.0.1:9/none.iso']);
      expect(curlDriver.code).not.toBe(0);
      expect(curlDriver.stderr).not.toMatch(/Unknown protocol/i);
      expect(curlDriver.stderr).toMatch(/Could not open|Failed to connect|Connection refused|curl/i);
      const devices = inImage(AGENT_IMAGE, 'qemu-system-x86_64', ['-machine', 'q35', '-device', 'help']);
      expect(devices.stdout).toContain('"ipmi-bmc-extern"');
      expect(devices.stdout).toContain('"isa-ipmi-kcs"');
      expect(devices.stdout).toContain('"virtio-net-pci"');
    });

    it('declares the healthcheck, volumes, ports and the tini entrypoint; runs the bundle, no node_modules but noVNC', () => {
      const config = JSON.parse(docker(['image', 'inspect', '--format', '{{json .Config}}', AGENT_IMAGE])) as {
        Healthcheck?: { Test: string[] };
        Volumes: Record<string, unknown>;
        ExposedPorts: Record<string, unknown>;
        Entrypoint: string[];
        StopSignal: string;
      };
      expect(config.Healthcheck?.Test).toEqual(['CMD', 'node', 'dist/agent/healthcheck.mjs']);
      expect(Object.keys(config.Volumes).sort()).toEqual(['/var/lib/qemu-bmc', '/vm']);
      expect(Object.keys(config.ExposedPorts).sort()).toEqual(['443/tcp', '5900/tcp', '623/udp']);
      expect(config.Entrypoint).toEqual(['tini', '--', 'node', 'dist/agent/main.mjs']);
      expect(config.StopSignal).toBe('SIGTERM');
      // scripts/build-agent.ts bundled the agent and its dependencies; only noVNC's browser files stay a package.
      const files = inImage(AGENT_IMAGE, 'sh', [
        '-c',
        'ls -A node_modules node_modules/@novnc dist/agent; ls -d bmc-agent',
      ]);
      expect(files.stdout).toMatch(/^node_modules:\n@novnc\n/m);
      expect(files.stdout).toMatch(/^node_modules\/@novnc:\nnovnc\n/m);
      expect(files.stdout).toMatch(/^main\.mjs$/m);
      expect(files.stdout).toMatch(/^healthcheck\.mjs$/m);
      expect(files.stdout).toMatch(/^csdl$/m);
      expect(files.stderr).toMatch(/bmc-agent.*No such file/);
    });

    it('exits 2 with one line naming the bad variable', () => {
      const r = runCommand('docker', ['run', '--rm', '-e', 'VM_MEMORY=lots', AGENT_IMAGE], 60_000);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe('bmc-agent: VM_MEMORY: must be an integer 16..1048576, got "lots"');
    });
  });

  describe('operator image', () => {
    let operator: StartedTestContainer | undefined;
    let port = 0;

    const cleanups: Array<() => void> = [];

    afterAll(async () => {
      if (operator) await operator.stop({ remove: true, timeout: 10_000 }).catch(() => undefined);
      for (const cleanup of cleanups) cleanup();
    });

    it('runs as non-root with a read-only root filesystem and no npm', () => {
      const user = docker(['image', 'inspect', '--format', '{{.Config.User}}', OPERATOR_IMAGE]).trim();
      expect(user).toBe('65532:65532');
      const r = inImage(
        OPERATOR_IMAGE,
        'node',
        ['-e', 'console.log(process.getuid(), process.getgid())'],
        ['--read-only'],
      );
      expect(r.stdout.trim()).toBe('65532 65532');
      const npm = inImage(OPERATOR_IMAGE, 'node', ['-e', 'require("fs").accessSync("/usr/local/bin/npm")']);
      expect(npm.code).not.toBe(0);
    });

    it('exits 2 with one line naming a bad variable', () => {
      const r = runCommand('docker', ['run', '--rm', '--read-only', '-e', 'WORKERS=many', OPERATOR_IMAGE], 60_000);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe("qemu-bmc-operator: WORKERS: 'many' is not a whole number");
    });

    it('exits 2 with one line when there is no kubeconfig and no cluster', () => {
      const r = runCommand('docker', ['run', '--rm', '--read-only', OPERATOR_IMAGE], 60_000);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(/^qemu-bmc-operator: KUBECONFIG: [^\n]+$/);
    });

    it('starts read-only with a kubeconfig whose apiserver is unreachable: /healthz answers, /readyz says standby, the log says why', async () => {
      port = await freePort('tcp');
      const dir = mkdtempSync(join(tmpdir(), 'qbmc-kubeconfig-'));
      const kubeconfig = join(dir, 'config');
      // Port 1 on the container's loopback: nothing listens, every request fails at once.
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: none, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
          'users: [{name: none, user: {token: not-a-token}}]',
          'contexts: [{name: none, context: {cluster: none, user: none}}]',
          'current-context: none',
          '',
        ].join('\n'),
      );
      chmodSync(dir, 0o755);
      chmodSync(kubeconfig, 0o644);
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      operator = await new ReadOnlyContainer(OPERATOR_IMAGE)
        .withReadOnlyRoot()
        .withPullPolicy(neverPull)
        .withName(uniqueName('operator'))
        .withBindMounts([{ source: dir, target: '/kube', mode: 'ro' }])
        .withEnvironment({ KUBECONFIG: '/kube/config' })
        .withExposedPorts({ container: 8080, host: port })
        .withWaitStrategy(Wait.forLogMessage(/"msg":"operator started"/))
        .withStartupTimeout(60_000)
        .start();
      const id = operator.getId();
      expect(docker(['inspect', '--format', '{{.HostConfig.ReadonlyRootfs}}', id]).trim()).toBe('true');
      const health = await waitFor(
        '/healthz',
        async () => {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`);
          return res.status === 200 ? await res.text() : undefined;
        },
        30_000,
      );
      expect(health.trim()).toBe('ok');
      // Not the leader (no apiserver to hold a lease on): a standby, which is ready by design.
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect([ready.status, (await ready.text()).trim()]).toEqual([200, 'standby']);
      const logs = await waitFor(
        'a log line about the missing cluster',
        () => {
          const r = runCommand('docker', ['logs', id]);
          return /leader election attempt failed|controller failed/.test(r.stdout + r.stderr)
            ? r.stdout + r.stderr
            : undefined;
        },
        30_000,
      );
      expect(logs).toMatch(/"level":40/);
      removeContainers(id);
      operator = undefined;
    });
  });
});
