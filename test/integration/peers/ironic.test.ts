import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { QmpClient } from '../../../bmc-agent/src/qmp/client.ts';
import { type BlockInfo, queryBlock } from '../../../bmc-agent/src/qmp/commands.ts';
import { childNames } from '../../../operator/src/api/names.ts';
import { type GuestAgent, startGuestAgent, TEST_ADMIN } from '../../support/agent.ts';
import { IRONIC_EXAMPLES, type Ironic, startIronic } from '../../support/ironic.ts';
import { requireCommand } from '../../support/require.ts';
import { bootableIso } from '../redfish/boot-images.ts';

// OpenStack Ironic 39 (from PyPI, test/env/ironic.sh), standalone, drives a real agent on loopback through the
// ipmi hardware type (ipmitool), the redfish hardware type (sushy) and the redfish-virtual-media boot interface,
// running the very command files docs/ironic-metal3.md shows (docs/examples/ironic/). Every effect is read back
// from the agent independently: ipmitool, curl to Redfish, and QEMU itself over a second QMP socket.

const run = promisify(execFile);
const BOOT_MAC = '52:54:00:1e:0a:01';
let ironic: Ironic;
let agent: GuestAgent;
let qmpDir: string;
let ipmitool: string;

const creds = { BMC_USER: TEST_ADMIN.user, BMC_PASS: TEST_ADMIN.password };

async function ipmi(...args: string[]): Promise<string> {
  const base = ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(agent.ipmiPort), '-U', creds.BMC_USER];
  const { stdout } = await run(ipmitool, [...base, '-P', creds.BMC_PASS, ...args], { timeout: 30_000 });
  return stdout.trim();
}

async function redfish<T>(path: string): Promise<T> {
  const { stdout } = await run('curl', ['-sSfk', '-u', `${creds.BMC_USER}:${creds.BMC_PASS}`, `${agent.url}${path}`]);
  return JSON.parse(stdout) as T;
}

interface RedfishSystem {
  PowerState: string;
  Boot: { BootSourceOverrideTarget: string; BootSourceOverrideEnabled: string };
}
interface RedfishMedia {
  Image: string | null;
  Inserted: boolean;
}

async function cdInQemu(): Promise<BlockInfo | undefined> {
  const qmp = new QmpClient({ target: { path: join(qmpDir, 'inspect.sock') } });
  await qmp.connectWithRetry(20);
  try {
    return (await queryBlock(qmp)).find((b) => b.qdev?.includes('cd0') || b.device === 'ide2-cd0');
  } finally {
    qmp.close();
  }
}

async function sha256Of(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return createHash('sha256')
    .update(Buffer.from(await response.arrayBuffer()))
    .digest('hex');
}

/**
 * A BIOS-bootable ISO whose boot code writes `marker` to the debug console (I/O port 0xe9) and halts: the VM stays
 * on and QEMU records what it booted. The image of boot-images.ts, with its boot sector (the one 512-byte sector its
 * El Torito catalog loads) replaced.
 */
function markerIso(marker: string): Buffer {
  const iso = bootableIso(0);
  const bootSector = 20 * 2048;
  if (iso.readUInt32LE(19 * 2048 + 32 + 8) !== 20) throw new Error('markerIso: the boot catalog moved');
  const code: number[] = [];
  for (const byte of Buffer.from(`${marker}\n`, 'ascii')) code.push(0xb0, byte, 0xe6, 0xe9); // mov al, byte; out 0xe9, al
  code.push(0xfa, 0xf4, 0xeb, 0xfd); // cli; hlt; jmp back to hlt
  iso.fill(0, bootSector, bootSector + 512);
  Buffer.from(code).copy(iso, bootSector);
  return iso;
}

beforeAll(async () => {
  ipmitool = requireCommand('ipmitool', 'npm run bed -- apt');
  requireCommand('curl', 'npm run bed -- apt');
  qmpDir = mkdtempSync(join(tmpdir(), 'ironic-qmp-'));
  // No guest OS: the VM sits in its firmware; Ironic only needs the BMC. A user-mode NIC with a fixed MAC stands
  // for the provisioning NIC (Metal3's bootMACAddress).
  agent = await startGuestAgent({
    script: '',
    name: 'ironic-it',
    env: {
      QEMU_EXTRA_ARGS: [
        `-qmp unix:${join(qmpDir, 'inspect.sock')},server=on,wait=off`,
        // What the live ISO's boot code writes to I/O port 0xe9 lands in this file.
        `-chardev file,id=qbmcdbg,path=${join(qmpDir, 'debugcon.log')},append=on`,
        '-device isa-debugcon,iobase=0xe9,chardev=qbmcdbg',
      ].join(' '),
      VM_NETWORKS: 'user',
      VM_NETWORK_MACS: BOOT_MAC,
    },
  });
  ironic = await startIronic({ name: 'ironic-it' });
});

afterAll(async () => {
  await ironic?.stop();
  await agent?.stop();
  if (qmpDir) rmSync(qmpDir, { recursive: true, force: true });
});

describe('Ironic, ipmi hardware type (ipmitool over IPMI LAN)', () => {
  const NODE = 'qemu-bmc-ipmi';

  it('enrolls the BMC and moves it to manageable (Ironic reads the power state over IPMI)', async () => {
    const enroll = await ironic.runExample('ipmi-enroll.sh', {
      ...creds,
      NODE,
      BMC_HOST: '127.0.0.1',
      IPMI_PORT: String(agent.ipmiPort),
    });
    expect(enroll.stdout).toMatch(/^manageable$/m);
    const node = await ironic.node(NODE);
    expect(node).toMatchObject({ driver: 'ipmi', provision_state: 'manageable', power_state: 'power off' });
    expect(node.driver_info.ipmi_address).toBe('127.0.0.1');
    expect(String(node.driver_info.ipmi_port)).toBe(String(agent.ipmiPort));
    // The conductor really shelled out to ipmitool against the agent.
    expect(ironic.logs()).toMatch(new RegExp(`ipmitool -I lanplus -H 127\\.0\\.0\\.1 .*-p ${agent.ipmiPort} `));
  });

  it('powers on, sets the boot device to pxe and powers off; ipmitool and Redfish see each effect', async () => {
    const on = await ironic.runExample('power-on.sh', { NODE });
    expect(on.stdout.trim().split('\n').at(-1)).toBe('power on');
    expect(await ipmi('power', 'status')).toBe('Chassis Power is on');
    expect((await redfish<RedfishSystem>('/redfish/v1/Systems/1')).PowerState).toBe('On');

    const boot = await ironic.runExample('boot-pxe.sh', { NODE });
    expect(boot.stdout.trim()).toBe('pxe');
    expect(await ipmi('chassis', 'bootparam', 'get', '5')).toMatch(/Boot Device Selector : Force PXE/);
    expect((await redfish<RedfishSystem>('/redfish/v1/Systems/1')).Boot.BootSourceOverrideTarget).toBe('Pxe');

    const off = await ironic.runExample('power-off.sh', { NODE });
    expect(off.stdout.trim().split('\n').at(-1)).toBe('power off');
    expect(await ipmi('power', 'status')).toBe('Chassis Power is off');
  });

  it('lets go of the BMC (the redfish node below drives the same agent)', async () => {
    // Two nodes on one BMC would fight in Ironic's power-state sync.
    await ironic.baremetal(['node', 'delete', NODE]);
    expect((await ironic.request('GET', `/v1/nodes/${NODE}`)).status).toBe(404);
  });
});

describe('Ironic, redfish hardware type and redfish-virtual-media boot interface', () => {
  const NODE = 'qemu-bmc-redfish';

  it('enrolls the BMC over HTTPS Redfish and moves it to manageable', async () => {
    const enroll = await ironic.runExample('redfish-enroll.sh', { ...creds, NODE, REDFISH: agent.hostPort });
    expect(enroll.stdout).toMatch(/^manageable$/m);
    const node = await ironic.node(NODE);
    expect(node).toMatchObject({
      driver: 'redfish',
      boot_interface: 'redfish-virtual-media',
      provision_state: 'manageable',
      power_state: 'power off',
    });
    const validate = (await ironic.request('GET', `/v1/nodes/${NODE}/validate`)).body as Record<
      string,
      { result: boolean }
    >;
    expect(validate.power?.result).toBe(true);
    expect(validate.management?.result).toBe(true);
  });

  it("verifies the agent's certificate when given it as redfish_verify_ca, and refuses with other CAs", async () => {
    // The system CA bundle does not hold the agent's self-signed certificate: the synchronous read must fail.
    await expect(
      ironic.runExample('redfish-verify-ca.sh', { NODE, CA_FILE: '/etc/ssl/certs/ca-certificates.crt' }),
    ).rejects.toThrow(/CERTIFICATE_VERIFY_FAILED|certificate verify failed/);
    // The agent's own certificate verifies; the rest of this file runs with verification on.
    const verified = await ironic.runExample('redfish-verify-ca.sh', {
      NODE,
      CA_FILE: join(agent.stateDir, 'redfish-tls.crt'),
    });
    expect(verified.stdout.trim()).toMatch(/^(None|pxe|disk|cdrom|bios)$/);
    expect((await ironic.node(NODE)).driver_info.redfish_verify_ca).toBe(join(agent.stateDir, 'redfish-tls.crt'));
  });

  it('powers on, sets the boot device to pxe and powers off; Redfish and ipmitool see each effect', async () => {
    expect((await ironic.runExample('power-on.sh', { NODE })).stdout.trim().split('\n').at(-1)).toBe('power on');
    expect((await redfish<RedfishSystem>('/redfish/v1/Systems/1')).PowerState).toBe('On');
    expect(await ipmi('power', 'status')).toBe('Chassis Power is on');

    expect((await ironic.runExample('boot-pxe.sh', { NODE })).stdout.trim()).toBe('pxe');
    expect((await redfish<RedfishSystem>('/redfish/v1/Systems/1')).Boot).toMatchObject({
      BootSourceOverrideTarget: 'Pxe',
      BootSourceOverrideEnabled: 'Once',
    });

    expect((await ironic.runExample('power-off.sh', { NODE })).stdout.trim().split('\n').at(-1)).toBe('power off');
    expect((await redfish<RedfishSystem>('/redfish/v1/Systems/1')).PowerState).toBe('Off');
  });

  it('attaches an ISO by URL as virtual CD: the agent has it inserted, with the image Ironic published', async () => {
    // With the VM on, the agent hands the medium to the running QEMU at once (QMP shows it below).
    expect((await ironic.runExample('power-on.sh', { NODE })).stdout.trim().split('\n').at(-1)).toBe('power on');
    const iso = bootableIso(0x41);
    const source = ironic.serveFile('attach.iso', iso);
    await ironic.runExample('vmedia-attach.sh', { NODE, ISO_URL: source });
    const cd = async () => redfish<RedfishMedia>('/redfish/v1/Systems/1/VirtualMedia/CD1');
    for (let attempt = 0; attempt < 60 && !(await cd()).Inserted; attempt++)
      await new Promise((r) => setTimeout(r, 500));
    expect((await ironic.node(NODE)).last_error).toBeNull();
    const media = await cd();
    expect(media.Inserted).toBe(true);
    // Ironic republishes the ISO under its own http_url and hands the BMC that URL.
    expect(media.Image).toBe(`${ironic.httpUrl}/redfish/cdrom-${(await ironic.node(NODE)).uuid}.iso`);
    expect(await sha256Of(media.Image ?? '')).toBe(createHash('sha256').update(iso).digest('hex'));
    // Ironic's own reading of the BMC agrees, and so does QEMU.
    const shown = JSON.parse((await ironic.runExample('vmedia-show.sh', { NODE })).stdout) as Array<{
      media_types: string[];
      inserted: boolean;
      image: string | null;
    }>;
    expect(shown.find((m) => m.media_types.includes('CD'))).toMatchObject({ inserted: true, image: media.Image });
    expect((await cdInQemu())?.inserted?.file).toContain(media.Image);
  });

  it('detaches the virtual CD', async () => {
    await ironic.runExample('vmedia-detach.sh', { NODE });
    const cd = async () => redfish<RedfishMedia>('/redfish/v1/Systems/1/VirtualMedia/CD1');
    for (let attempt = 0; attempt < 60 && (await cd()).Inserted; attempt++)
      await new Promise((r) => setTimeout(r, 500));
    expect((await cd()).Inserted).toBe(false);
    expect((await cdInQemu())?.inserted).toBeUndefined();
  });

  it('boots a live ISO through the boot interface (ramdisk deploy): the VM boots the ISO Ironic inserted', async () => {
    const systemNic = await redfish<{ Members: Array<{ '@odata.id': string }> }>(
      '/redfish/v1/Systems/1/EthernetInterfaces',
    );
    const nic = await redfish<{ MACAddress: string }>(systemNic.Members[0]?.['@odata.id'] ?? '');
    expect(nic.MACAddress.toLowerCase()).toBe(BOOT_MAC);
    const marker = `QBMC-LIVE-ISO-${randomBytes(6).toString('hex')}`;
    const iso = markerIso(marker);
    const deploy = await ironic.runExample('live-iso.sh', {
      NODE,
      BOOT_MAC: nic.MACAddress,
      // The marker ISO is BIOS-only: Ironic must ask the BMC for Legacy boot (the agent then starts SeaBIOS).
      BOOT_MODE: 'bios',
      ISO_URL: ironic.serveFile('live.iso', iso),
    });
    expect(deploy.stdout.trim().split('\n').slice(-2)).toEqual(['power on', 'active']);
    const node = await ironic.node(NODE);
    expect(node).toMatchObject({ provision_state: 'active', deploy_interface: 'ramdisk', last_error: null });
    const ports = (await ironic.request('GET', `/v1/ports?node=${NODE}`)).body as { ports: Array<{ address: string }> };
    expect(ports.ports.map((p) => p.address)).toEqual([BOOT_MAC]);

    const media = await redfish<RedfishMedia>('/redfish/v1/Systems/1/VirtualMedia/CD1');
    expect(media.Inserted).toBe(true);
    expect(media.Image).toBe(`${ironic.httpUrl}/redfish/boot-${node.uuid}.iso`);
    expect(await sha256Of(media.Image ?? '')).toBe(createHash('sha256').update(iso).digest('hex'));
    expect((await cdInQemu())?.inserted?.file).toContain(media.Image);
    const system = await redfish<RedfishSystem & { Boot: { BootSourceOverrideMode: string } }>('/redfish/v1/Systems/1');
    expect(system.PowerState).toBe('On');
    expect(system.Boot).toMatchObject({
      BootSourceOverrideTarget: 'Cd',
      BootSourceOverrideEnabled: 'Continuous',
      BootSourceOverrideMode: 'Legacy',
    });
    expect(await ipmi('power', 'status')).toBe('Chassis Power is on');
    // The VM booted from that CD: its boot code ran and wrote the marker (bounded wait: TCG, SeaBIOS).
    const debugcon = () =>
      existsSync(join(qmpDir, 'debugcon.log')) ? readFileSync(join(qmpDir, 'debugcon.log'), 'latin1') : '';
    for (let attempt = 0; attempt < 120 && !debugcon().includes(marker); attempt++)
      await new Promise((r) => setTimeout(r, 500));
    expect(debugcon()).toContain(marker);
  });
});

describe('docs/ironic-metal3.md', () => {
  it('shows every file of docs/examples/ironic verbatim (so what it shows is what this file runs)', () => {
    const page = readFileSync(join(IRONIC_EXAMPLES, '..', '..', 'ironic-metal3.md'), 'utf8');
    const files = readdirSync(IRONIC_EXAMPLES).sort();
    expect(files).toContain('ironic.conf');
    for (const file of files) expect(page, file).toContain(readFileSync(join(IRONIC_EXAMPLES, file), 'utf8').trimEnd());
  });
});

describe('Metal3 BareMetalHost examples (checked against what Ironic was proven with; no baremetal-operator runs)', () => {
  interface Doc {
    kind: string;
    metadata: { name: string };
    spec?: {
      bootMACAddress?: string;
      bmc?: { address: string; credentialsName: string; disableCertificateVerification?: boolean };
    };
  }
  const hosts = (): Doc[] =>
    parseAllDocuments(readFileSync(join(IRONIC_EXAMPLES, 'baremetalhost.yaml'), 'utf8'))
      .map((doc) => doc.toJS() as Doc)
      .filter((doc) => doc.kind === 'BareMetalHost');

  it('use the VirtualBMC Service ports, the Systems/1 path and the operator-made Secret', () => {
    const all = hosts();
    const addresses = all.map((h) => h.spec?.bmc?.address ?? '');
    expect(addresses).toEqual([
      'ipmi://10.96.0.50:623',
      'redfish://10.96.0.50/redfish/v1/Systems/1',
      'redfish-virtualmedia://10.96.0.50/redfish/v1/Systems/1',
    ]);
    for (const host of all) {
      expect(host.spec?.bmc?.credentialsName).toBe(childNames('node1').secret);
      expect(host.spec?.bootMACAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    }
    expect(all.filter((h) => h.spec?.bmc?.address.startsWith('redfish')).map((h) => h.spec?.bmc)).toEqual([
      expect.objectContaining({ disableCertificateVerification: true }),
      expect.objectContaining({ disableCertificateVerification: true }),
    ]);
  });
});
