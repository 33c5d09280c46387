/**
 * A real Kubernetes node on this machine, for the e2e suite: Debian's containerd (with runc and the CNI bridge
 * plugin) under a kubelet and kube-proxy built by test/env/k8s.sh, joined to a control plane from cluster.ts.
 * Pods really run: their containers are processes here, their IPs sit on a bridge of this host, and kube-proxy's
 * iptables rules make Service cluster IPs answer from this host, as they would from a MAAS rack controller.
 *
 * Images come from the local Docker engine (`docker save` into `ctr images import`): no registry. containerd keeps
 * its content store under the bed cache, so an image already imported (same Docker image ID) is not copied again.
 *
 * One node per machine at a time: it owns a fixed bridge name, a fixed containerd socket and host iptables chains.
 * start and stop leave the host as they found it (chains flushed by `kube-proxy --cleanup`, bridge deleted,
 * every container and mount of the node removed), also after a run that died without stopping.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { hasExited, terminate } from './child.ts';
import { freePorts } from './ports.ts';
import { requireCommand, requireFile } from './require.ts';

/** Built by test/env/node.sh from the pinned Kubernetes module's pause.c. */
export const PAUSE_IMAGE = 'qemu-bmc.local/pause:3.10';
export const NODE_NAME = 'qemu-bmc-node';
export const POD_SUBNET = '10.244.0.0/24';
const CLUSTER_CIDR = '10.244.0.0/16';
const BRIDGE = 'qbmc-cni0';
const RUN_DIR = '/run/qemu-bmc-node';
const CONTAINERD_SOCKET = `${RUN_DIR}/containerd.sock`;
const CNI_BIN_DIR = '/usr/lib/cni';
const NAMESPACE = 'k8s.io'; // containerd's namespace for CRI (kubelet) containers and images
const installHint = 'npm run bed -- apt docker k8s node';
const readyAttempts = 240; // x 500 ms

export interface NodeInputs {
  /** Working directory of the cluster (removed by the cluster after stop). */
  dir: string;
  binDir: string;
  /** Admin kubeconfig (kubelet and kube-proxy use it: a test cluster, see cluster.ts). */
  kubeconfig: string;
  caCertPath: string;
  /** This host's address that pods and the apiserver use for the node. */
  nodeIp: string;
  /** Appends a line to the test's progress log. */
  log: (line: string) => void;
}

export interface RunningNode {
  name: string;
  nodeIp: string;
  /** Copies images from the local Docker engine into the node's containerd (skips ones already there). */
  loadImages(images: string[]): Promise<void>;
  /** Last lines of a node component's log: containerd, kubelet or kube-proxy. */
  logTail(component: 'containerd' | 'kubelet' | 'kube-proxy', lines?: number): string;
  stop(): Promise<void>;
}

/** The source address of this host's default route: the node IP the apiserver advertises and pods reach it at. */
export function defaultRouteAddress(): string {
  const out = execFileSync('ip', ['-4', '-o', 'route', 'get', '1.1.1.1'], { encoding: 'utf8' });
  const match = /\bsrc (\d+\.\d+\.\d+\.\d+)/.exec(out);
  if (!match?.[1])
    throw new Error(`no IPv4 default route on this host ('ip route get 1.1.1.1' printed: ${out.trim()})`);
  return match[1];
}

function cacheDir(): string {
  return process.env['QEMU_BMC_CACHE'] ?? join(homedir(), '.cache', 'qemu-bmc');
}

export function requireNodeBed(binDir: string): void {
  for (const cmd of ['containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'iptables', 'conntrack', 'docker'])
    requireCommand(cmd, installHint);
  for (const plugin of ['bridge', 'host-local', 'loopback', 'portmap', 'firewall'])
    requireFile(join(CNI_BIN_DIR, plugin), installHint);
  for (const name of ['kubelet', 'kube-proxy']) requireFile(join(binDir, name), installHint);
  const inspect = spawnSync('docker', ['image', 'inspect', PAUSE_IMAGE], { encoding: 'utf8' });
  if (inspect.status !== 0)
    throw new Error(`prerequisite missing: Docker image ${PAUSE_IMAGE}; build it with: ${installHint}`);
}

function run(cmd: string, args: string[], timeoutMs = 60_000): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Like run, but a failure is only logged: used by cleanup, which must go on. */
function tryRun(cmd: string, args: string[], timeoutMs = 60_000): string {
  const result = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return result.status === 0 ? result.stdout : '';
}

function ctr(args: string[], timeoutMs = 60_000): string {
  return run('ctr', ['--address', CONTAINERD_SOCKET, '--namespace', NAMESPACE, ...args], timeoutMs);
}

function tryCtr(args: string[], timeoutMs = 60_000): string {
  return tryRun('ctr', ['--address', CONTAINERD_SOCKET, '--namespace', NAMESPACE, ...args], timeoutMs);
}

/** PIDs whose command line contains `needle` (the node's shims and stray children of an earlier run). */
function pidsMatching(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids;
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Mount points at or under any of the prefixes, deepest first. */
function mountsUnder(prefixes: string[]): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .map((path) => path.replaceAll('\\040', ' '))
    .filter((path) => prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)));
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

function unmountAll(prefixes: string[]): void {
  for (const path of mountsUnder(prefixes)) tryRun('umount', ['-l', path]);
}

/** The pod network namespaces containerd created (bind mounts under /run/netns named cni-*). */
function removePodNetns(): void {
  if (!existsSync('/run/netns')) return;
  for (const name of readdirSync('/run/netns')) if (name.startsWith('cni-')) tryRun('ip', ['netns', 'delete', name]);
}

/** Rule numbers (1-based) in a chain whose text contains `needle`, highest first (so deleting keeps the others). */
function ruleNumbers(binary: string, table: string, chain: string, needle: string): number[] {
  return tryRun(binary, ['-t', table, '-L', chain, '-n', '--line-numbers'])
    .split('\n')
    .filter((line) => line.includes(needle))
    .map((line) => Number.parseInt(line, 10))
    .filter((n) => Number.isInteger(n))
    .sort((a, b) => b - a);
}

/**
 * iptables state of pods whose sandboxes were killed rather than torn down (the bridge plugin's per-pod masquerade
 * chains, the firewall plugin's chains) and the kubelet's KUBE-FIREWALL; kube-proxy's own go with --cleanup.
 */
function removeIptablesLeftovers(): void {
  const ours = '"qemu-bmc'; // the CNI network name in each rule's comment (escaped as \" by iptables -S)
  for (const n of ruleNumbers('iptables', 'nat', 'POSTROUTING', ours))
    tryRun('iptables', ['-t', 'nat', '-D', 'POSTROUTING', String(n)]);
  for (const line of tryRun('iptables', ['-t', 'nat', '-S']).split('\n')) {
    const chain = /^-N (CNI-[0-9a-f]+)$/.exec(line)?.[1];
    if (chain && tryRun('iptables', ['-t', 'nat', '-S', chain]).includes(ours)) {
      tryRun('iptables', ['-t', 'nat', '-F', chain]);
      tryRun('iptables', ['-t', 'nat', '-X', chain]);
    }
  }
  for (const binary of ['iptables', 'ip6tables']) {
    for (const [parent, chain] of [
      ['FORWARD', 'CNI-FORWARD'],
      ['INPUT', 'KUBE-FIREWALL'],
      ['OUTPUT', 'KUBE-FIREWALL'],
    ] as const) {
      for (const n of ruleNumbers(binary, 'filter', parent, chain)) tryRun(binary, ['-D', parent, String(n)]);
    }
    for (const chain of ['CNI-FORWARD', 'CNI-ADMIN', 'KUBE-FIREWALL', 'KUBE-KUBELET-CANARY']) {
      tryRun(binary, ['-F', chain]);
      tryRun(binary, ['-X', chain]);
    }
    for (const table of ['nat', 'mangle']) {
      tryRun(binary, ['-t', table, '-F', 'KUBE-KUBELET-CANARY']);
      tryRun(binary, ['-t', table, '-X', 'KUBE-KUBELET-CANARY']);
    }
  }
}

/**
 * Removes what a node leaves on the host: containers and shims of our containerd, its mounts, pod network
 * namespaces, kube-proxy's iptables chains and the CNI bridge. Safe when nothing is there.
 */
function cleanHost(binDir: string, kubeletDir: string | undefined): void {
  killAll(pidsMatching(CONTAINERD_SOCKET)); // containerd-shim-runc-v2 processes take -address <socket>
  killAll(pidsMatching(`${RUN_DIR}/containerd.toml`)); // a containerd left by a run that died
  unmountAll([RUN_DIR, ...(kubeletDir ? [kubeletDir] : [])]);
  removePodNetns();
  tryRun(join(binDir, 'kube-proxy'), ['--cleanup', '--proxy-mode=iptables']);
  tryRun('ip', ['link', 'delete', BRIDGE]);
  removeIptablesLeftovers();
  rmSync(RUN_DIR, { recursive: true, force: true });
}

function launch(logPath: string, binary: string, args: string[]): ChildProcess {
  const log = openSync(logPath, 'a');
  const child = spawn(binary, args, { stdio: ['ignore', log, log] });
  child.on('error', () => {});
  return child;
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitFor(
  what: string,
  child: ChildProcess,
  logPath: string,
  ready: () => boolean | Promise<boolean>,
): Promise<void> {
  for (let attempt = 0; attempt < readyAttempts; attempt++) {
    if (hasExited(child))
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${tail(logPath, 30)}`);
    if (await Promise.resolve(ready()).catch(() => false)) return;
    await sleep(500);
  }
  throw new Error(`${what} not ready after ${readyAttempts / 2}s:\n${tail(logPath, 30)}`);
}

function containerdConfig(root: string): string {
  // containerd 1.6 (Debian bookworm) reads config version 2.
  return `version = 2
root = "${root}"
state = "${RUN_DIR}/state"
[grpc]
  address = "${CONTAINERD_SOCKET}"
[ttrpc]
  address = "${RUN_DIR}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${root}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  enable_selinux = false
  # This sandbox forbids lowering oom_score_adj (runc's init then dies with "can't get final child's PID"):
  # containers get no lower score than containerd itself.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${RUN_DIR}/cni"
`;
}

function cniConfig(ipamDir: string): string {
  return JSON.stringify({
    cniVersion: '0.4.0',
    name: 'qemu-bmc',
    plugins: [
      {
        type: 'bridge',
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: true,
        // A pod reaching its own Service (the agent behind its cluster IP) comes back through the bridge.
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: POD_SUBNET }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: ipamDir,
        },
      },
      // Docker's engine on the same host sets the FORWARD policy to DROP: pod -> Service -> pod traffic is
      // forwarded from the bridge to the bridge, so the pods' addresses must be accepted there explicitly.
      { type: 'firewall', backend: 'iptables' },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  });
}

function kubeletConfig(inputs: NodeInputs, port: number, healthzPort: number): string {
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: inputs.nodeIp,
    port,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: false },
      x509: { clientCAFile: inputs.caCertPath },
    },
    authorization: { mode: 'AlwaysAllow' },
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    // This machine has cgroup v1 and no systemd; containerd 1.6 cannot tell the kubelet its driver.
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    // No cluster DNS: pods use the host's resolver; everything in the suite addresses Services by IP.
    resolvConf: '/etc/resolv.conf',
    // A shared test machine: never evict the pods under test because the disk is fuller than a real node's.
    evictionHard: { 'memory.available': '100Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    localStorageCapacityIsolation: false,
    protectKernelDefaults: false,
    makeIPTablesUtilChains: false,
    nodeStatusReportFrequency: '10s',
    nodeStatusUpdateFrequency: '10s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
  });
}

/** Docker image ID → label on the containerd image, so an unchanged image is not imported again. */
const IMAGE_ID_LABEL = 'qemu-bmc.docker-image-id';

/** containerd's name for a Docker reference (`name:tag` becomes `docker.io/library/name:tag`). */
export function normalizedImageName(image: string): string {
  const [first] = image.split('/');
  const hasRegistry = image.includes('/') && first !== undefined && (first.includes('.') || first.includes(':'));
  if (hasRegistry) return image;
  return image.includes('/') ? `docker.io/${image}` : `docker.io/library/${image}`;
}

export async function startNode(inputs: NodeInputs): Promise<RunningNode> {
  const { dir, binDir, log } = inputs;
  requireNodeBed(binDir);
  if (existsSync(CONTAINERD_SOCKET) && pidsMatching(`${RUN_DIR}/containerd.toml`).length > 0)
    log(`node: a previous node's containerd is still running; removing it`);
  const kubeletDir = join(dir, 'kubelet');
  cleanHost(binDir, undefined);

  const root = join(cacheDir(), 'node', 'containerd');
  mkdirSync(root, { recursive: true });
  mkdirSync(join(RUN_DIR, 'cni'), { recursive: true });
  mkdirSync(kubeletDir, { recursive: true });
  const logs = {
    containerd: join(dir, 'containerd.log'),
    kubelet: join(dir, 'kubelet.log'),
    'kube-proxy': join(dir, 'kube-proxy.log'),
  } as const;
  const configPath = join(RUN_DIR, 'containerd.toml');
  writeFileSync(configPath, containerdConfig(root));
  writeFileSync(join(RUN_DIR, 'cni', '10-qemu-bmc.conflist'), cniConfig(join(dir, 'cni-ipam')));

  const processes: ChildProcess[] = [];
  let containerd: ChildProcess | undefined;
  const kubeletUp = false;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const started = Date.now();
    // While the kubelet still runs, let it tear every pod down properly (CNI DEL releases addresses and rules).
    if (kubeletUp) {
      tryRun(
        join(binDir, 'kubectl'),
        [
          `--kubeconfig=${inputs.kubeconfig}`,
          'delete',
          'pods',
          '--all',
          '--all-namespaces',
          '--grace-period=0',
          '--force',
          '--wait=false',
        ],
        30_000,
      );
      for (let i = 0; i < 60 && tryCtr(['tasks', 'list', '--quiet']).trim() !== ''; i++) await sleep(500);
    }
    // The kubelet first, so nothing restarts what is removed next; then every container, then containerd.
    for (const child of [...processes].reverse()) {
      if (child === containerd) {
        for (const id of tryCtr(['tasks', 'list', '--quiet']).split('\n').filter(Boolean)) {
          tryCtr(['tasks', 'kill', '--signal', 'SIGKILL', id]);
        }
        await sleep(500);
        for (const id of tryCtr(['tasks', 'list', '--quiet']).split('\n').filter(Boolean))
          tryCtr(['tasks', 'delete', '--force', id]);
        for (const id of tryCtr(['containers', 'list', '--quiet']).split('\n').filter(Boolean))
          tryCtr(['containers', 'delete', id]);
      }
      await terminate(child);
    }
    process.removeListener('exit', killOnExit);
    cleanHost(binDir, kubeletDir);
    log(`node: stopped and cleaned up in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  };
  const killOnExit = (): void => {
    for (const child of processes) if (!hasExited(child)) child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  try {
    let started = Date.now();
    containerd = launch(logs.containerd, 'containerd', ['--config', configPath, '--log-level', 'warn']);
    processes.push(containerd);
    const runtime = containerd;
    await waitFor('containerd', runtime, logs.containerd, () => tryCtr(['version']).includes('Server'));
    log(`node: containerd ${run('containerd', ['--version']).split(' ')[2]} up in ${Date.now() - started} ms`);

    const loadImages = async (images: string[]): Promise<void> => {
      for (const image of images) {
        const began = Date.now();
        const id = run('docker', ['image', 'inspect', '--format', '{{.Id}}', image]).trim();
        const name = normalizedImageName(image);
        const listed = tryCtr(['images', 'list', `name==${name}`]);
        if (listed.includes(`${IMAGE_ID_LABEL}=${id}`)) {
          log(`node: image ${image} already in containerd`);
          continue;
        }
        await new Promise<void>((resolve, reject) => {
          const save = spawn('docker', ['save', image], { stdio: ['ignore', 'pipe', 'pipe'] });
          const load = spawn(
            'ctr',
            ['--address', CONTAINERD_SOCKET, '--namespace', NAMESPACE, 'images', 'import', '-'],
            { stdio: ['pipe', 'pipe', 'pipe'] },
          );
          let stderr = '';
          save.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          load.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString();
          });
          save.stdout.pipe(load.stdin);
          load.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`import of ${image}: ${stderr}`))));
          load.on('error', reject);
          save.on('error', reject);
        });
        // Imported and unpacked for the default (overlayfs) snapshotter, the one the CRI plugin uses.
        ctr(['images', 'label', name, `${IMAGE_ID_LABEL}=${id}`]);
        log(`node: image ${image} imported into containerd in ${((Date.now() - began) / 1000).toFixed(1)}s`);
      }
    };
    await loadImages([PAUSE_IMAGE]);

    started = Date.now();
    const [kubeletPort, healthzPort, proxyHealthzPort, proxyMetricsPort] = await freePorts(4);
    const kubeletConfigPath = join(dir, 'kubelet-config.yaml');
    writeFileSync(kubeletConfigPath, kubeletConfig(inputs, kubeletPort as number, healthzPort as number));
    const kubelet = launch(logs.kubelet, join(binDir, 'kubelet'), [
      `--config=${kubeletConfigPath}`,
      `--kubeconfig=${inputs.kubeconfig}`,
      `--root-dir=${kubeletDir}`,
      `--cert-dir=${join(dir, 'kubelet-pki')}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${inputs.nodeIp}`,
      '--v=1',
    ]);
    processes.push(kubelet);

    const proxy = launch(logs['kube-proxy'], join(binDir, 'kube-proxy'), [
      `--kubeconfig=${inputs.kubeconfig}`,
      `--hostname-override=${NODE_NAME}`,
      '--proxy-mode=iptables',
      `--cluster-cidr=${CLUSTER_CIDR}`,
      `--healthz-bind-address=127.0.0.1:${proxyHealthzPort}`,
      `--metrics-bind-address=127.0.0.1:${proxyMetricsPort}`,
      // Inside this sandbox the conntrack sysctls are read-only: leave them as they are.
      '--conntrack-max-per-core=0',
      '--conntrack-tcp-timeout-established=0s',
      '--conntrack-tcp-timeout-close-wait=0s',
      '--v=1',
    ]);
    processes.push(proxy);

    const kubectl = (args: string[]): string =>
      run(join(binDir, 'kubectl'), [`--kubeconfig=${inputs.kubeconfig}`, ...args]);
    await waitFor('kubelet', kubelet, logs.kubelet, () => {
      const ready = tryRun(join(binDir, 'kubectl'), [
        `--kubeconfig=${inputs.kubeconfig}`,
        'get',
        'node',
        NODE_NAME,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return ready.trim() === 'True';
    });
    log(
      `node: ${NODE_NAME} Ready in ${((Date.now() - started) / 1000).toFixed(1)}s (kubelet ${kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.nodeInfo.kubeletVersion}'])}, containerd, ${BRIDGE})`,
    );
    await waitFor('kube-proxy', proxy, logs['kube-proxy'], async () => {
      const res = await fetch(`http://127.0.0.1:${proxyHealthzPort}/healthz`);
      return res.ok;
    });
    log('node: kube-proxy healthy (iptables mode)');

    return {
      name: NODE_NAME,
      nodeIp: inputs.nodeIp,
      loadImages,
      logTail: (component, lines = 40) => tail(logs[component], lines),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
