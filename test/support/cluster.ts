/**
 * A throwaway Kubernetes control plane for tests, envtest-style: real etcd and kube-apiserver on free loopback ports,
 * an admin client certificate (system:masters) in a kubeconfig, and optionally kwok so Nodes become Ready and Pods
 * bound to them reach Running without a kubelet. By default there is no controller-manager or scheduler (tests set
 * spec.nodeName themselves, and namespaces never finish terminating); `controllers` adds them, and `node` adds a
 * real node on this host (test/support/node.ts) on which pods really run.
 *
 * The binaries come from test/env/k8s.sh (`npm run bed -- k8s`); $QEMU_BMC_K8S_BIN overrides where they are.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { stringify } from 'yaml';
import { terminate } from './child.ts';
import { defaultRouteAddress, type RunningNode, startNode } from './node.ts';
import { freePorts } from './ports.ts';
import { requireFile } from './require.ts';

const installHint = 'npm run bed -- k8s';
const serviceClusterIpRange = '10.96.0.0/16';
const podCidr = '10.244.0.0/16';
const readyAttempts = 240; // x 500 ms: a cold apiserver on two busy cores can take a minute

export interface ClusterOptions {
  /** Start kwok, managing every Node, with stages that make Nodes Ready and bound Pods Running. Default false. */
  kwok?: boolean;
  /** Extra kube-apiserver flags, appended last so they win. */
  apiserverArgs?: string[];
  /**
   * Also run kube-controller-manager and kube-scheduler, so Deployments get ReplicaSets and Pods and Pods get
   * nodes (with kwok, they then reach Running). Default false.
   */
  controllers?: boolean;
  /**
   * Also run a real node on this host (test/support/node.ts): containerd, kubelet and kube-proxy, so Pods run and
   * Service cluster IPs answer. Implies controllers; the apiserver then listens on this host's address too (pods
   * reach it through the "kubernetes" Service) and pods get ServiceAccount tokens. Default false.
   */
  node?: boolean;
  /** Progress lines while a node starts and stops (default: console.log). */
  log?: (line: string) => void;
}

export interface CommandResult {
  stdout: string;
  stderr: string;
}

export interface Cluster {
  /** Path of a kubeconfig with the admin (system:masters) client certificate. */
  kubeconfig: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** PEM of the CA that signed the serving and client certificates. */
  caCert: string;
  /** Directory holding etcd, kube-apiserver, kubectl, helm, kwok. */
  binDir: string;
  /** The real node, when started with `node: true`. */
  node?: RunningNode;
  /** Runs kubectl against this cluster; rejects with stderr on a non-zero exit. */
  kubectl(args: string[], input?: string): Promise<CommandResult>;
  /** Runs helm against this cluster, with helm's config, cache and data dirs inside the cluster's temp dir. */
  helm(args: string[], input?: string): Promise<CommandResult>;
  /** Stops every process started for this cluster and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Where test/env/k8s.sh links the newest complete set of binaries. */
export function k8sBinDir(): string {
  const cache = process.env['QEMU_BMC_CACHE'] ?? join(homedir(), '.cache', 'qemu-bmc');
  return process.env['QEMU_BMC_K8S_BIN'] ?? join(cache, 'k8s-bin');
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  // Free ports are picked, released, then bound by the child: another process on a shared machine can take one in
  // between. That is the only failure worth a fresh attempt.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('address already in use')) throw error;
    }
  }
}

async function startOnce(options: ClusterOptions): Promise<Cluster> {
  const binDir = k8sBinDir();
  const names = [
    'etcd',
    'kube-apiserver',
    'kubectl',
    'helm',
    ...(options.kwok ? ['kwok'] : []),
    ...(options.controllers || options.node ? ['kube-controller-manager', 'kube-scheduler'] : []),
  ];
  const nodeIp = options.node ? defaultRouteAddress() : undefined;
  for (const name of names) requireFile(join(binDir, name), installHint);

  const dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-cluster-'));
  const processes: ChildProcess[] = [];
  let stopped = false;
  let node: RunningNode | undefined;
  const killAll = (): void => {
    for (const child of processes) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  // A test runner that dies without calling stop() must not leave an apiserver behind.
  process.once('exit', killAll);

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // The node first: it removes its pods' containers while the apiserver still answers.
    await node?.stop();
    // Reverse start order: kwok, then the apiserver, then etcd under it.
    for (const child of [...processes].reverse()) await terminate(child);
    process.removeListener('exit', killAll);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const pki = await writePki(dir, nodeIp);
    const [etcdClientPort, etcdPeerPort, apiserverPort] = await freePorts(3);
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const server = `https://127.0.0.1:${apiserverPort}`;

    const etcd = launch(dir, join(binDir, 'etcd'), 'etcd', [
      '--name=default',
      `--data-dir=${join(dir, 'etcd-data')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync=true', // throwaway data: skip fsync, as envtest does
      '--log-level=warn',
    ]);
    processes.push(etcd);
    await waitUntil('etcd', dir, etcd, async () => (await httpGet(`${etcdUrl}/health`)).includes('"health":"true"'));

    const addressArgs = nodeIp
      ? [
          // Pods reach the apiserver through the "kubernetes" Service, whose endpoint is this address.
          '--bind-address=0.0.0.0',
          `--advertise-address=${nodeIp}`,
          `--kubelet-client-certificate=${pki.adminCert}`,
          `--kubelet-client-key=${pki.adminKey}`,
          // The node's name is not in any DNS here; its InternalIP is.
          '--kubelet-preferred-address-types=InternalIP',
        ]
      : [
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          // The endpoint reconciler refuses a loopback advertise address; nothing in-cluster reaches the apiserver.
          '--endpoint-reconciler-type=none',
        ];
    const apiserver = launch(dir, join(binDir, 'kube-apiserver'), 'kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      ...addressArgs,
      `--secure-port=${apiserverPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      '--authorization-mode=RBAC',
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      // Without a node, no pod needs a token, and without a controller-manager no default ServiceAccount would
      // exist for the admission check.
      ...(nodeIp ? [] : ['--disable-admission-plugins=ServiceAccount']),
      '--allow-privileged=true',
      ...(options.apiserverArgs ?? []),
    ]);
    processes.push(apiserver);
    const tls = { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key };
    await waitUntil('kube-apiserver', dir, apiserver, async () => (await httpGet(`${server}/readyz`, tls)) === 'ok');

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(server, pki.ca.cert, pki.admin.cert, pki.admin.key), { mode: 0o600 });

    if (options.kwok) {
      const stages = join(dir, 'kwok-stages.yaml');
      writeFileSync(stages, kwokStages);
      processes.push(
        launch(dir, join(binDir, 'kwok'), 'kwok', [
          `--kubeconfig=${kubeconfig}`,
          `--config=${stages}`,
          '--manage-all-nodes=true',
          `--cidr=${podCidr}`,
          '--node-ip=10.244.0.1',
        ]),
      );
    }

    if (options.controllers || options.node) {
      // Both use the admin kubeconfig: these are test clusters, and per-component identities add nothing here.
      processes.push(
        launch(dir, join(binDir, 'kube-controller-manager'), 'kube-controller-manager', [
          `--kubeconfig=${kubeconfig}`,
          `--authentication-kubeconfig=${kubeconfig}`,
          `--authorization-kubeconfig=${kubeconfig}`,
          '--bind-address=127.0.0.1',
          '--secure-port=0',
          `--service-account-private-key-file=${pki.serviceAccountPrivateKey}`,
          `--root-ca-file=${pki.caCert}`,
          '--use-service-account-credentials=false',
          '--leader-elect=false',
          // Pod CIDRs come from kwok. The node lifecycle controller stays: it lifts the not-ready taint that
          // admission puts on every new Node once kwok reports it Ready.
          '--controllers=*,-nodeipam',
        ]),
        launch(dir, join(binDir, 'kube-scheduler'), 'kube-scheduler', [
          `--kubeconfig=${kubeconfig}`,
          `--authentication-kubeconfig=${kubeconfig}`,
          `--authorization-kubeconfig=${kubeconfig}`,
          '--bind-address=127.0.0.1',
          '--secure-port=0',
          '--leader-elect=false',
        ]),
      );
    }

    if (nodeIp) {
      node = await startNode({
        dir,
        binDir,
        kubeconfig,
        caCertPath: pki.caCert,
        nodeIp,
        log: options.log ?? ((line) => console.log(line)),
      });
    }

    const run = (binary: string, env: NodeJS.ProcessEnv) => (args: string[], input?: string) =>
      runCommand(join(binDir, binary), args, { ...process.env, ...env }, input);
    return {
      kubeconfig,
      server,
      caCert: pki.ca.cert,
      binDir,
      ...(node ? { node } : {}),
      kubectl: (args, input) => run('kubectl', {})([`--kubeconfig=${kubeconfig}`, ...args], input),
      helm: run('helm', {
        KUBECONFIG: kubeconfig,
        HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
        HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
        HELM_DATA_HOME: join(dir, 'helm', 'data'),
      }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Pem {
  cert: string;
  key: string;
}

interface Pki {
  ca: Pem;
  admin: Pem;
  caCert: string;
  adminCert: string;
  adminKey: string;
  servingCert: string;
  servingKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
}

/** A CA, the apiserver's serving certificate, an admin client certificate and the service-account signing keys. */
async function writePki(dir: string, nodeIp: string | undefined): Promise<Pki> {
  const common = { keyType: 'ec', algorithm: 'sha256', notAfterDate: new Date(Date.now() + 7 * 86_400_000) } as const;
  const ca = await generate([{ name: 'commonName', value: 'qemu-bmc test cluster CA' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const caPem = { cert: ca.cert, key: ca.private };
  const serving = await generate([{ name: 'commonName', value: 'kube-apiserver' }], {
    ...common,
    ca: caPem,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '10.96.0.1' }, // first IP of the service range: the in-cluster "kubernetes" Service
          ...(nodeIp ? [{ type: 7 as const, ip: nodeIp }] : []),
          { type: 2, value: 'localhost' },
          { type: 2, value: 'kubernetes.default.svc' },
        ],
      },
    ],
  });
  // Kubernetes reads groups from O: system:masters is the built-in cluster-admin group.
  const admin = await generate(
    [
      { name: 'commonName', value: 'admin' },
      { name: 'organizationName', value: 'system:masters' },
    ],
    {
      ...common,
      ca: caPem,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true },
        { name: 'extKeyUsage', clientAuth: true },
      ],
    },
  );
  const serviceAccount = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });

  const write = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  return {
    ca: caPem,
    admin: { cert: admin.cert, key: admin.private },
    caCert: write('ca.crt', ca.cert),
    adminCert: write('admin.crt', admin.cert),
    adminKey: write('admin.key', admin.private),
    servingCert: write('apiserver.crt', serving.cert),
    servingKey: write('apiserver.key', serving.private),
    serviceAccountPublicKey: write('sa.pub', serviceAccount.publicKey),
    serviceAccountPrivateKey: write('sa.key', serviceAccount.privateKey),
  };
}

function kubeconfigYaml(server: string, ca: string, cert: string, key: string): string {
  const b64 = (pem: string): string => Buffer.from(pem).toString('base64');
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server, 'certificate-authority-data': b64(ca) } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': b64(cert), 'client-key-data': b64(key) } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user: 'admin', namespace: 'default' } }],
    'current-context': 'test',
  });
}

/** Starts a binary with its output in <dir>/<name>.log (read back when it fails). */
function launch(dir: string, binary: string, name: string, args: string[]): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', log, log] });
  child.on('error', () => {}); // reported through exitCode / the log; keeps an ENOENT from crashing the runner
  return child;
}

function logTail(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, `${name}.log`), 'utf8')
      .split('\n')
      .slice(-25)
      .join('\n');
  } catch {
    return '(no log)';
  }
}

async function waitUntil(name: string, dir: string, child: ChildProcess, ready: () => Promise<boolean>): Promise<void> {
  for (let attempt = 0; attempt < readyAttempts; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${logTail(dir, name)}`,
      );
    }
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${name} not ready after ${readyAttempts / 2}s:\n${logTail(dir, name)}`);
}

interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** GET with a short timeout; resolves with the body whatever the status (callers check the body). */
function httpGet(url: string, tls?: ClientTls): Promise<string> {
  const get = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = get(url, { method: 'GET', timeout: 5_000, ...tls }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve(res.statusCode === 200 ? body : `HTTP ${res.statusCode}: ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function runCommand(binary: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      binary,
      args,
      { env, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${binary} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/**
 * kwok's behaviour, as Stage objects: a managed Node becomes Ready; a Pod bound to one becomes Running and Ready;
 * a Pod being deleted goes away (no kubelet would confirm it otherwise).
 */
const kwokStages = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      addresses:
      - address: {{ NodeIP | Quote }}
        type: InternalIP
      - address: {{ NodeName | Quote }}
        type: Hostname
      allocatable: {cpu: "64", memory: 256Gi, pods: "110"}
      capacity: {cpu: "64", memory: 256Gi, pods: "110"}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-running
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: ['Pending']
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Running
      startTime: {{ $now | Quote }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) .metadata.uid .metadata.name .metadata.namespace | Quote }}
      conditions:
      - {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
      - {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: Exists
  next:
    delete: true
`;
