// Typed wrappers for the QMP commands the machine model uses. Argument names follow QEMU's QAPI schema (7.2).
import type { QmpClient } from './client.ts';

/** query-status "status" values (QAPI RunState). */
export type RunState =
  | 'running'
  | 'paused'
  | 'shutdown'
  | 'prelaunch'
  | 'inmigrate'
  | 'postmigrate'
  | 'internal-error'
  | 'io-error'
  | 'debug'
  | 'finish-migrate'
  | 'restore-vm'
  | 'save-vm'
  | 'suspended'
  | 'watchdog'
  | 'guest-panicked'
  | 'colo';

export interface StatusInfo {
  running: boolean;
  singlestep?: boolean;
  status: RunState;
}

export interface BlockInfo {
  device: string;
  qdev?: string;
  removable: boolean;
  locked: boolean;
  tray_open?: boolean;
  inserted?: { file: string; ro: boolean; drv: string; 'node-name'?: string };
}

export const queryStatus = (qmp: QmpClient) => qmp.execute<StatusInfo>('query-status');
export const systemPowerdown = (qmp: QmpClient) => qmp.execute<Record<string, never>>('system_powerdown');
export const systemReset = (qmp: QmpClient) => qmp.execute<Record<string, never>>('system_reset');
export const injectNmi = (qmp: QmpClient) => qmp.execute<Record<string, never>>('inject-nmi');
export const stop = (qmp: QmpClient) => qmp.execute<Record<string, never>>('stop');
export const cont = (qmp: QmpClient) => qmp.execute<Record<string, never>>('cont');
/** QEMU exits; the reply may race with the socket closing, so callers should also wait for the process. */
export const quit = (qmp: QmpClient) => qmp.execute<Record<string, never>>('quit');
export const queryBlock = (qmp: QmpClient) => qmp.execute<BlockInfo[]>('query-block');

export const blockdevOpenTray = (qmp: QmpClient, id: string, force = true) =>
  qmp.execute('blockdev-open-tray', { id, force });
export const blockdevCloseTray = (qmp: QmpClient, id: string) => qmp.execute('blockdev-close-tray', { id });
export const blockdevRemoveMedium = (qmp: QmpClient, id: string) => qmp.execute('blockdev-remove-medium', { id });
export const blockdevInsertMedium = (qmp: QmpClient, id: string, nodeName: string) =>
  qmp.execute('blockdev-insert-medium', { id, 'node-name': nodeName });
export const blockdevChangeMedium = (
  qmp: QmpClient,
  id: string,
  filename: string,
  opts: { format?: string; readOnly?: boolean; timeoutMs?: number } = {},
) =>
  qmp.execute(
    'blockdev-change-medium',
    {
      id,
      filename,
      ...(opts.format ? { format: opts.format } : {}),
      'read-only-mode': opts.readOnly === false ? 'read-write' : 'read-only',
    },
    opts.timeoutMs,
  );
export const eject = (qmp: QmpClient, id: string, force = true) => qmp.execute('eject', { id, force });
export const blockdevAdd = (qmp: QmpClient, options: Record<string, unknown>, timeoutMs?: number) =>
  qmp.execute('blockdev-add', options, timeoutMs);
export const blockdevDel = (qmp: QmpClient, nodeName: string) => qmp.execute('blockdev-del', { 'node-name': nodeName });

export const qomGet = <T = unknown>(qmp: QmpClient, path: string, property: string) =>
  qmp.execute<T>('qom-get', { path, property });
