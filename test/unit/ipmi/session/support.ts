// A PacketHandler over a real FileBmcStore (temp dir) and the real command table, with a settable clock.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBmcStore } from '../../../../bmc-agent/src/bmc/store.ts';
import { Privilege } from '../../../../bmc-agent/src/bmc/types.ts';
import { smbiosGuidBytes } from '../../../../bmc-agent/src/ipmi/commands/guid.ts';
import { createCommandDispatcher } from '../../../../bmc-agent/src/ipmi/commands/index.ts';
import { PacketHandler, type Remote } from '../../../../bmc-agent/src/ipmi/session/packet.ts';
import { SessionTable } from '../../../../bmc-agent/src/ipmi/session/table.ts';
import type { Machine } from '../../../../bmc-agent/src/machine/types.ts';
import type { Send } from './client.ts';

export const UUID = '8f4a3c2e-1b2d-4e5f-8a9b-0c1d2e3f4a5b';

/**
 * The handler never drives the machine in these tests (no chassis commands are sent), so an inert one is enough;
 * the integration suite runs the same handler over a real QEMU machine.
 */
export function inertMachine(): Machine {
  const machine = {
    info: { uuid: UUID, cpus: 1, memoryMiB: 256, mode: 'attach', accelerator: 'tcg' },
    powerState: () => 'Off',
    restartCause: () => 'unknown',
    bootOverride: () => ({ target: 'None', enabled: 'Disabled', mode: 'Legacy' }),
    media: () => [],
    on: () => machine,
    off: () => machine,
  };
  return machine as unknown as Machine;
}

export interface Bed {
  handler: PacketHandler;
  table: SessionTable;
  store: FileBmcStore;
  clock: { now: number };
  send(packet: Uint8Array, remote?: Remote): Promise<{ reply: Uint8Array | undefined; rejected: string | undefined }>;
  /** A Send for the test client that fails on refusals without a reply. */
  client: Send;
  rejections: string[];
  close(): void;
}

export const CONSOLE: Remote = { address: '127.0.0.1', port: 40000 };

export async function bed(
  options: { cipherSuites?: number[]; maxSessions?: number; timeoutMs?: number; allowV15?: boolean } = {},
): Promise<Bed> {
  const dir = mkdtempSync(join(tmpdir(), 'ipmi-session-'));
  const store = await FileBmcStore.open({
    path: join(dir, 'state.json'),
    seed: {
      adminUser: 'admin',
      adminPassword: 'password',
      address: '10.0.0.5',
      macAddress: '52:54:00:12:34:56',
      powerRestorePolicy: 'always-off',
    },
  });
  await store.update((s) => {
    const lan = (privilege: number, ipmiMessaging = true) => ({
      1: { privilege: privilege as 3, callin: true, linkAuth: true, ipmiMessaging },
    });
    s.users.push(
      { id: 3, name: 'operator', password: 'oppass', enabled: true, channels: lan(Privilege.Operator) },
      { id: 4, name: 'disabled', password: 'password', enabled: false, channels: lan(Privilege.Administrator) },
      { id: 5, name: 'nolan', password: 'password', enabled: true, channels: lan(Privilege.Administrator, false) },
    );
  });
  const clock = { now: 1_000_000 };
  const table = new SessionTable({
    maxSessions: options.maxSessions ?? 4,
    idleTimeoutMs: options.timeoutMs ?? 60_000,
    now: () => clock.now,
  });
  const dispatcher = createCommandDispatcher({ lanPort: 623 });
  const handler = new PacketHandler({
    table,
    store,
    machine: inertMachine(),
    dispatcher,
    cipherSuites: options.cipherSuites ?? [3, 17],
    allowV15: options.allowV15 ?? false,
    guid: Uint8Array.from(smbiosGuidBytes(UUID)),
  });
  const rejections: string[] = [];
  const send = async (packet: Uint8Array, remote: Remote = CONSOLE) => {
    const out = await handler.handle(packet, remote);
    if (out.rejected) rejections.push(out.rejected);
    return { reply: out.reply, rejected: out.rejected };
  };
  return {
    handler,
    table,
    store,
    clock,
    send,
    client: async (packet) => (await send(packet)).reply,
    rejections,
    close: () => {
      dispatcher.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
