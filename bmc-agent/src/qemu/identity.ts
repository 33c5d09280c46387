// Stable identity of the VM: its UUID (SMBIOS, Redfish, IPMI GUID) and the MACs derived from it.
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../bmc/atomic-file.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** VM_UUID when given; otherwise the UUID kept in STATE_DIR/vm-uuid, created once. */
export async function resolveVmUuid(stateDir: string, configured: string | null): Promise<string> {
  if (configured) return configured;
  const file = join(stateDir, 'vm-uuid');
  try {
    const stored = (await readFile(file, 'utf8')).trim().toLowerCase();
    if (!UUID.test(stored)) throw new Error(`${file} does not hold a UUID; fix or remove it`);
    return stored;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const uuid = randomUUID();
  await writeFileAtomic(file, `${uuid}\n`, 0o644);
  return uuid;
}

/**
 * A locally administered unicast MAC derived from the UUID and a role, so it survives restarts and differs per VM.
 * role 'bmc' is the BMC's LAN MAC; 'nic0', 'nic1'... are the VM's NICs (QEMU's 52:54:00 prefix for those).
 */
export function derivedMac(uuid: string, role: string): string {
  const h = createHash('sha256').update(`${uuid}/${role}`).digest();
  const bytes = role === 'bmc' ? [0x02, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!] : [0x52, 0x54, 0x00, h[0]!, h[1]!, h[2]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The VM's NIC MACs in QEMU order: VM_NETWORK_MACS when given, else derived from the UUID. */
export function vmNicMacs(vm: { networks: readonly string[]; networkMacs: readonly string[] }, uuid: string): string[] {
  return vm.networks.map((_, i) => vm.networkMacs[i] ?? derivedMac(uuid, `nic${i}`));
}
