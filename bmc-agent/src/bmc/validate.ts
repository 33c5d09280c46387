// Schema check for BmcState: used on load (a hand-edited or corrupt file) and after every update (a buggy mutator).
import { MAX_PASSWORD_BYTES, MAX_USER_NAME_BYTES, MAX_USERS } from './defaults.ts';
import type { BmcState, ChannelAccess, ChannelUserAccess, PrivilegeLevel } from './types.ts';
import { Privilege } from './types.ts';

export class InvalidBmcState extends Error {
  constructor(path: string, problem: string) {
    super(`${path}: ${problem}`);
    this.name = 'InvalidBmcState';
  }
}

type Obj = Record<string, unknown>;

function object(value: unknown, path: string): Obj {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidBmcState(path, 'must be an object');
  return value as Obj;
}
function bool(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') throw new InvalidBmcState(`${path}.${key}`, 'must be a boolean');
  return v;
}
function int(o: Obj, key: string, path: string, min: number, max: number): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new InvalidBmcState(`${path}.${key}`, `must be an integer ${min}..${max}`);
  return v;
}
function str(o: Obj, key: string, path: string, maxBytes = 1024): string {
  const v = o[key];
  if (typeof v !== 'string') throw new InvalidBmcState(`${path}.${key}`, 'must be a string');
  if (Buffer.byteLength(v, 'utf8') > maxBytes)
    throw new InvalidBmcState(`${path}.${key}`, `must be at most ${maxBytes} bytes`);
  return v;
}
function oneOf<T extends string>(o: Obj, key: string, path: string, allowed: readonly T[]): T {
  const v = o[key];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    throw new InvalidBmcState(`${path}.${key}`, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

const PRIVILEGES: readonly number[] = Object.values(Privilege);
function privilege(o: Obj, key: string, path: string): PrivilegeLevel {
  const v = o[key];
  if (typeof v !== 'number' || !PRIVILEGES.includes(v))
    throw new InvalidBmcState(`${path}.${key}`, `must be a privilege level (${PRIVILEGES.join(', ')})`);
  return v as PrivilegeLevel;
}
function channelKey(key: string, path: string): number {
  const n = Number(key);
  if (!/^\d+$/.test(key) || n < 0 || n > 15) throw new InvalidBmcState(`${path}.${key}`, 'channel must be 0..15');
  return n;
}

function userAccess(value: unknown, path: string): ChannelUserAccess {
  const o = object(value, path);
  return {
    privilege: privilege(o, 'privilege', path),
    callin: bool(o, 'callin', path),
    linkAuth: bool(o, 'linkAuth', path),
    ipmiMessaging: bool(o, 'ipmiMessaging', path),
  };
}

function channelAccess(value: unknown, path: string): ChannelAccess {
  const o = object(value, path);
  return {
    accessMode: int(o, 'accessMode', path, 0, 3),
    userLevelAuth: bool(o, 'userLevelAuth', path),
    perMessageAuth: bool(o, 'perMessageAuth', path),
    alerting: bool(o, 'alerting', path),
    privilegeLimit: privilege(o, 'privilegeLimit', path),
  };
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

function ipv4(o: Obj, key: string, path: string): string {
  const v = str(o, key, path);
  if (!IPV4.test(v)) throw new InvalidBmcState(`${path}.${key}`, 'must be a dotted IPv4 address');
  return v;
}

/** Returns a clean copy of a valid state (unknown keys dropped), or throws InvalidBmcState naming the first bad field. */
export function validateBmcState(value: unknown): BmcState {
  const root = object(value, 'state');
  if (root['version'] !== 1) throw new InvalidBmcState('state.version', 'must be 1');

  if (!Array.isArray(root['users'])) throw new InvalidBmcState('state.users', 'must be an array');
  const seen = new Set<number>();
  const names = new Set<string>();
  const users = root['users'].map((raw, i) => {
    const path = `state.users[${i}]`;
    const o = object(raw, path);
    const id = int(o, 'id', path, 1, MAX_USERS);
    if (seen.has(id)) throw new InvalidBmcState(`${path}.id`, `duplicate user id ${id}`);
    seen.add(id);
    const name = str(o, 'name', path, MAX_USER_NAME_BYTES);
    const enabled = bool(o, 'enabled', path);
    if (enabled && name !== '') {
      if (names.has(name)) throw new InvalidBmcState(`${path}.name`, `two enabled users are named "${name}"`);
      names.add(name);
    }
    const channels: Record<number, ChannelUserAccess> = {};
    for (const [key, access] of Object.entries(object(o['channels'], `${path}.channels`))) {
      channels[channelKey(key, `${path}.channels`)] = userAccess(access, `${path}.channels.${key}`);
    }
    return { id, name, password: str(o, 'password', path, MAX_PASSWORD_BYTES), enabled, channels };
  });
  users.sort((a, b) => a.id - b.id);

  const channels: Record<number, ChannelAccess> = {};
  for (const [key, access] of Object.entries(object(root['channels'], 'state.channels'))) {
    channels[channelKey(key, 'state.channels')] = channelAccess(access, `state.channels.${key}`);
  }

  const lanO = object(root['lan'], 'state.lan');
  const mac = str(lanO, 'macAddress', 'state.lan').toLowerCase();
  if (!MAC.test(mac)) throw new InvalidBmcState('state.lan.macAddress', 'must be six hex bytes separated by colons');
  const cipherPrivs = lanO['cipherSuitePrivileges'];
  if (!Array.isArray(cipherPrivs) || cipherPrivs.length > 16)
    throw new InvalidBmcState('state.lan.cipherSuitePrivileges', 'must be an array of at most 16 privilege levels');
  const authTypes = lanO['authTypeEnables'];
  if (!Array.isArray(authTypes) || authTypes.length !== 5)
    throw new InvalidBmcState('state.lan.authTypeEnables', 'must be an array of 5 bytes');
  const lan = {
    ipSource: oneOf(lanO, 'ipSource', 'state.lan', ['static', 'dhcp'] as const),
    ipAddress: ipv4(lanO, 'ipAddress', 'state.lan'),
    netmask: ipv4(lanO, 'netmask', 'state.lan'),
    gateway: ipv4(lanO, 'gateway', 'state.lan'),
    macAddress: mac,
    vlanId: int(lanO, 'vlanId', 'state.lan', 0, 4094),
    cipherSuitePrivileges: cipherPrivs.map((_, i) =>
      privilege(cipherPrivs as unknown as Obj, String(i), 'state.lan.cipherSuitePrivileges'),
    ),
    authTypeEnables: authTypes.map((_, i) =>
      int(authTypes as unknown as Obj, String(i), 'state.lan.authTypeEnables', 0, 255),
    ),
  };

  const solO = object(root['sol'], 'state.sol');
  const sol = {
    enabled: bool(solO, 'enabled', 'state.sol'),
    privilege: privilege(solO, 'privilege', 'state.sol'),
    forceEncryption: bool(solO, 'forceEncryption', 'state.sol'),
    forceAuthentication: bool(solO, 'forceAuthentication', 'state.sol'),
    characterAccumulateMs: int(solO, 'characterAccumulateMs', 'state.sol', 0, 1275),
    characterSendThreshold: int(solO, 'characterSendThreshold', 'state.sol', 0, 255),
    retryCount: int(solO, 'retryCount', 'state.sol', 0, 7),
    retryIntervalMs: int(solO, 'retryIntervalMs', 'state.sol', 0, 2550),
    baudRate: int(solO, 'baudRate', 'state.sol', 0, 15),
  };

  const bootParams: Record<number, string> = {};
  for (const [key, hex] of Object.entries(object(root['bootParams'], 'state.bootParams'))) {
    const n = Number(key);
    if (!/^\d+$/.test(key) || n > 127) throw new InvalidBmcState(`state.bootParams.${key}`, 'parameter must be 0..127');
    if (typeof hex !== 'string' || !/^([0-9a-f]{2})*$/i.test(hex) || hex.length > 512)
      throw new InvalidBmcState(`state.bootParams.${key}`, 'must be a hex string of at most 256 bytes');
    bootParams[n] = hex.toLowerCase();
  }

  const bootO = object(root['boot'], 'state.boot');
  const boot = {
    target: oneOf(bootO, 'target', 'state.boot', ['None', 'Pxe', 'Cd', 'Hdd', 'BiosSetup', 'Usb'] as const),
    enabled: oneOf(bootO, 'enabled', 'state.boot', ['Disabled', 'Once', 'Continuous'] as const),
    mode: oneOf(bootO, 'mode', 'state.boot', ['Legacy', 'UEFI'] as const),
  };

  return {
    version: 1,
    users,
    channels,
    lan,
    sol,
    powerRestorePolicy: oneOf(root, 'powerRestorePolicy', 'state', ['always-off', 'previous', 'always-on'] as const),
    lastPowerState: oneOf(root, 'lastPowerState', 'state', ['On', 'Off'] as const),
    bootParams,
    boot,
  };
}
