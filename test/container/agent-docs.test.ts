import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitShellWords } from '../../bmc-agent/src/qemu/shell-words.ts';
import { requireContainerBed } from '../support/docker.ts';
import { freePort } from '../support/ports.ts';
import { requireCommand } from '../support/require.ts';
import {
  AGENT_IMAGE,
  buildImage,
  docCommands,
  ipmiAnswers,
  type RunResult,
  removeContainers,
  removeVolumes,
  repoRoot,
  requireClients,
  runCommand,
  uniqueName,
} from './support.ts';

// docs/install.md's Docker and Compose commands, run as written. Only what cannot be the same on a shared machine is
// changed, each change listed here (and in the doc's introduction): host ports → free ports, container / volume /
// project names → unique ones, `--device /dev/kvm` → `-e ENABLE_KVM=false`, Compose's image / ports / VM directory
// through the variables docker-compose.yml reads, `docker compose` → `docker-compose` when the plugin is missing.

const DOC = 'docs/install.md';

interface Rewrite {
  names: Map<string, string>;
  ipmiPort: number;
  redfishPort: number;
}

function renamed(rw: Rewrite, name: string): string {
  let to = rw.names.get(name);
  if (!to) {
    to = uniqueName(name);
    rw.names.set(name, to);
  }
  return to;
}

/** A doc line → [env, argv] with the substitutions above. */
function rewrite(line: string, rw: Rewrite): { env: Record<string, string>; argv: string[] } {
  const words = splitShellWords(line);
  const env: Record<string, string> = {};
  while (words[0] && /^[A-Z_]+=/.test(words[0])) {
    const [k, ...v] = words.shift()!.split('=');
    env[k!] = v.join('=');
  }
  const [cmd, ...rest] = words;
  if (cmd === 'ipmitool') {
    const h = rest.indexOf('-H');
    expect(h, `${line}: ipmitool without -H`).toBeGreaterThanOrEqual(0);
    rest.splice(h + 2, 0, '-p', String(rw.ipmiPort));
    return { env, argv: [cmd, ...rest] };
  }
  if (cmd === 'curl') {
    return {
      env,
      argv: [cmd, ...rest.map((w) => w.replace(/^https:\/\/127\.0\.0\.1\//, `https://127.0.0.1:${rw.redfishPort}/`))],
    };
  }
  if (cmd !== 'docker') return { env, argv: words };
  const [sub, ...args] = rest;
  if (sub === 'volume' && args[0] === 'create')
    return { env, argv: ['docker', 'volume', 'create', renamed(rw, args[1]!)] };
  if (sub === 'stop' || sub === 'start') return { env, argv: ['docker', sub, ...args.map((a) => renamed(rw, a))] };
  if (sub === 'run') {
    const out: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const next = args[i + 1];
      if (a === '--name' && next) {
        out.push(a, renamed(rw, next));
        i++;
      } else if (a === '-p' && next) {
        const [, container] = next.split(':');
        const port = container?.endsWith('/udp') ? rw.ipmiPort : rw.redfishPort;
        out.push(a, `127.0.0.1:${port}:${container}`);
        i++;
      } else if (a === '-v' && next) {
        const [source, ...target] = next.split(':');
        out.push(a, `${renamed(rw, source!)}:${target.join(':')}`);
        i++;
      } else if (a === '--device' && next === '/dev/kvm') {
        out.push('-e', 'ENABLE_KVM=false');
        i++;
      } else {
        out.push(a);
      }
    }
    return { env, argv: ['docker', 'run', ...out] };
  }
  return { env, argv: words };
}

function run(argv: string[], env: Record<string, string> = {}, cwd?: string): RunResult {
  const [cmd, ...args] = argv;
  return runCommand(cmd!, args, 900_000, { ...process.env, ...env }, cwd);
}

const docCreds = { user: 'admin', password: 'change-me' };

describe('docs/install.md, run as written', () => {
  const rw: Rewrite = { names: new Map(), ipmiPort: 0, redfishPort: 0 };

  beforeAll(async () => {
    requireContainerBed();
    requireClients();
    rw.ipmiPort = await freePort('udp');
    rw.redfishPort = await freePort('tcp');
  });

  afterAll(() => {
    const names = [...rw.names.values()];
    removeContainers(...names);
    removeVolumes(...names);
  });

  it('Docker: build, run, power on/off over IPMI, Redfish over curl, stop and start', async () => {
    const build = docCommands(DOC, 'docker-build');
    expect(build).toEqual(['docker build -t qemu-bmc-agent -f Dockerfile.agent .']);
    // The doc's build, run in the repository root (a warm layer cache makes it quick after the suite's own build).
    buildImage('Dockerfile.agent', AGENT_IMAGE);
    const b = run(rewrite(build[0]!, rw).argv);
    expect(b.code, b.stderr.slice(-2000)).toBe(0);

    for (const line of docCommands(DOC, 'docker-run')) {
      const { env, argv } = rewrite(line, rw);
      const r = run(argv, env);
      expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(0);
    }
    const container = rw.names.get('qemu-bmc')!;
    const ipmiReady = () => ipmiAnswers(rw.ipmiPort, docCreds);
    await ipmiReady();

    const use = docCommands(DOC, 'docker-use');
    const outputs: string[] = [];
    for (const line of use) {
      const { env, argv } = rewrite(line, rw);
      const r = run(argv, env);
      expect(r.code, `${argv.join(' ')}\n${r.stderr}`).toBe(0);
      outputs.push(r.stdout);
      if (argv[0] === 'docker' && argv[1] === 'start') await ipmiReady();
    }
    expect(outputs[0]!.trim()).toBe('Chassis Power is off');
    expect(outputs[1]!.trim()).toBe('Chassis Power Control: Up/On');
    const system = JSON.parse(outputs[2]!) as { PowerState: string; MemorySummary?: { TotalSystemMemoryGiB: number } };
    expect(['On', 'PoweringOn']).toContain(system.PowerState);
    expect(outputs[3]!.trim()).toBe('Chassis Power Control: Down/Off');
    const exit = runCommand('docker', ['inspect', '--format', '{{.State.Running}} {{.RestartCount}}', container]);
    expect(exit.stdout.trim()).toBe('true 0');
    // The disk VM_DISK_SIZE asked for, on the volume.
    const disk = runCommand('docker', ['exec', container, 'qemu-img', 'info', '--output=json', '/vm/disk.qcow2']);
    expect(JSON.parse(disk.stdout)['virtual-size']).toBe(20 * 1024 ** 3);
  });

  it('Compose: up, ipmitool and curl through the published ports, down', async () => {
    const compose = runCommand('docker', ['compose', 'version']).code === 0 ? ['docker', 'compose'] : null;
    if (!compose) requireCommand('docker-compose', 'apt-get install -y docker-compose');
    buildImage('Dockerfile.agent', AGENT_IMAGE);
    const dir = mkdtempSync(join(tmpdir(), 'qbmc-compose-'));
    const project = uniqueName('compose');
    const ipmiPort = await freePort('udp');
    const redfishPort = await freePort('tcp');
    const env = {
      QEMU_BMC_IMAGE: AGENT_IMAGE,
      IPMI_HOST_PORT: `127.0.0.1:${ipmiPort}`,
      REDFISH_HOST_PORT: `127.0.0.1:${redfishPort}`,
      VM_DIR: join(dir, 'vm'),
      ENABLE_KVM: 'false',
      VM_DISK_SIZE: '1G',
    };
    const composeArgs = (args: string[]) => [
      ...(compose ?? ['docker-compose']),
      '-f',
      join(repoRoot, 'docker-compose.yml'),
      '--project-directory',
      repoRoot,
      '-p',
      project,
      ...args,
    ];
    const local: Rewrite = { names: new Map(), ipmiPort, redfishPort };
    try {
      const lines = docCommands(DOC, 'compose');
      expect(lines[0]).toBe('mkdir -p vm');
      const results: RunResult[] = [];
      const exported: Record<string, string> = {};
      for (const line of lines) {
        const exportMatch = /^export ([A-Z_]+)=(\S+)$/.exec(line);
        if (exportMatch) {
          exported[exportMatch[1]!] = exportMatch[2]!;
          continue;
        }
        const { env: own, argv } = rewrite(line, local);
        const lineEnv = { ...exported, ...own };
        let r: RunResult;
        if (argv[0] === 'docker' && argv[1] === 'compose') {
          r = run(composeArgs(argv.slice(2)), { ...env, ...lineEnv }, dir);
          if (argv[2] === 'up') await ipmiAnswers(ipmiPort, docCreds);
        } else {
          r = run(argv, lineEnv, dir);
        }
        expect(r.code, `${argv.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
        results.push(r);
      }
      expect(exported).toEqual({ IPMI_PASS: 'change-me' });
      expect(results[2]!.stdout).toMatch(/^IPMI Version\s+: 2\.0$/m);
      expect((JSON.parse(results[3]!.stdout) as { PowerState: string }).PowerState).toBe('Off');
      // The doc's `down` removed the container and kept the state volume.
      const ps = runCommand('docker', ['ps', '-a', '--filter', `label=com.docker.compose.project=${project}`, '-q']);
      expect(ps.stdout.trim()).toBe('');
      const vols = runCommand('docker', ['volume', 'ls', '-q', '--filter', `name=${project}`]);
      expect(vols.stdout.trim()).toBe(`${project}_qemu-bmc-state`);
    } finally {
      run(composeArgs(['down', '-v']), { ...env, IPMI_PASS: 'cleanup' }, dir);
      // The VM directory holds a root-owned disk made in the container.
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
