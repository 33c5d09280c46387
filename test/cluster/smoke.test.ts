// Proves the cluster part of the test bed is real: etcd + kube-apiserver built from source answer, CRDs establish,
// kwok makes a Node Ready and a Pod Running, and helm talks to the same apiserver.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Cluster, startCluster } from '../support/cluster.ts';

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.smoke.qemu-bmc.test
spec:
  group: smoke.qemu-bmc.test
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 1}
`;

const node = `apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  labels: {type: kwok}
`;

const pod = `apiVersion: v1
kind: Pod
metadata:
  name: smoke
spec:
  nodeName: kwok-node-0
  containers:
  - name: app
    image: example.invalid/app:1
`;

/** Status code of an anonymous request: the apiserver must not serve it. */
function anonymousStatus(url: string, ca: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: 10_000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe('cluster test bed', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster({ kwok: true });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('kube-apiserver answers /readyz and refuses anonymous API calls', async () => {
    const { stdout } = await cluster.kubectl(['get', '--raw', '/readyz']);
    expect(stdout.trim()).toBe('ok');
    const { stdout: version } = await cluster.kubectl(['version', '-o', 'json']);
    expect(JSON.parse(version).serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    expect(await anonymousStatus(`${cluster.server}/api/v1/namespaces`, cluster.caCert)).toBeOneOf([401, 403]);
  });

  it('establishes a CRD applied with kubectl, and stores and validates its objects', async () => {
    await cluster.kubectl(['apply', '-f', '-'], crd);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/widgets.smoke.qemu-bmc.test', '--timeout=60s']);
    await cluster.kubectl(
      ['apply', '-f', '-'],
      'apiVersion: smoke.qemu-bmc.test/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: 3}\n',
    );
    const { stdout } = await cluster.kubectl(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.size}']);
    expect(stdout).toBe('3');
    await expect(
      cluster.kubectl(
        ['apply', '-f', '-'],
        'apiVersion: smoke.qemu-bmc.test/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: 0}\n',
      ),
    ).rejects.toThrow(/spec.size/);
  });

  it('kwok makes a Node Ready and a Pod bound to it Running', async () => {
    await cluster.kubectl(['apply', '-f', '-'], node);
    await cluster.kubectl(['wait', '--for=condition=Ready', 'node/kwok-node-0', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], pod);
    await cluster.kubectl(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/smoke', '--timeout=60s']);
    await cluster.kubectl(['wait', '--for=condition=Ready', 'pod/smoke', '--timeout=60s']);
    const { stdout } = await cluster.kubectl(['get', 'pod', 'smoke', '-o', 'json']);
    const status = JSON.parse(stdout).status;
    expect(status.podIP).toMatch(/^10\.244\./);
    expect(status.containerStatuses[0].state.running).toBeDefined();
  });

  it('helm prints its version and installs a chart into the cluster', async () => {
    const { stdout } = await cluster.helm(['version', '--short']);
    expect(stdout.trim()).toMatch(/^v3\.\d+\.\d+/);

    const chart = mkdtempSync(join(tmpdir(), 'qemu-bmc-smoke-chart-'));
    try {
      mkdirSync(join(chart, 'templates'));
      writeFileSync(
        join(chart, 'Chart.yaml'),
        'apiVersion: v2\nname: smoke\nversion: 0.1.0\nkubeVersion: ">=1.33.0-0"\n',
      );
      writeFileSync(
        join(chart, 'templates', 'configmap.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}-config}\ndata: {greeting: {{ .Values.greeting | quote }}}\n',
      );
      writeFileSync(join(chart, 'values.yaml'), 'greeting: hello\n');
      await cluster.helm(['install', 'smoke', chart, '--set', 'greeting=from-helm', '--wait', '--timeout=60s']);
      const { stdout: greeting } = await cluster.kubectl([
        'get',
        'configmap',
        'smoke-config',
        '-o',
        'jsonpath={.data.greeting}',
      ]);
      expect(greeting).toBe('from-helm');
    } finally {
      rmSync(chart, { recursive: true, force: true });
    }
  });
});

describe('cluster lifecycle', () => {
  it('stop() ends the processes and removes the temp dir', async () => {
    const cluster = await startCluster();
    const { stdout } = await cluster.kubectl(['get', 'namespace', 'default', '-o', 'jsonpath={.metadata.name}']);
    expect(stdout).toBe('default');
    expect(existsSync(cluster.kubeconfig)).toBe(true);
    await cluster.stop();
    expect(existsSync(cluster.kubeconfig)).toBe(false);
    await expect(anonymousStatus(`${cluster.server}/readyz`, cluster.caCert)).rejects.toThrow(/ECONNREFUSED/);
  });
});
