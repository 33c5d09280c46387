// Live boot order changes: QEMU rebuilds the firmware boot order from device bootindex values at every reset.
import type { QmpClient } from '../qmp/client.ts';
import { qomGet } from '../qmp/commands.ts';

/** QEMU refuses to set a bootindex a device already has ("already been used"), so unchanged values are skipped. */
export async function setBootIndex(qmp: QmpClient, id: string, value: number): Promise<void> {
  const path = `/machine/peripheral/${id}`;
  if ((await qomGet<number>(qmp, path, 'bootindex')) === value) return;
  await qmp.execute('qom-set', { path, property: 'bootindex', value });
}
