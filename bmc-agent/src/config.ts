// Environment → typed, validated agent configuration. Names and defaults follow the Go seed; see docs/configuration.md.
// parseConfig is pure: it never reads the filesystem or the network, so every rule is unit-testable.
import { isIP } from 'node:net';
import type { PowerRestorePolicy } from './bmc/types.ts';
import { splitShellWords } from './qemu/shell-words.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** A bad variable: the message is the one line the process prints before exiting. */
export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string, got: string | undefined) {
    super(`${variable}: ${problem}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export interface HostPort {
  host: string;
  port: number;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type BootDevice = 'c' | 'd' | 'n';
/** auto = KVM when the probe shows it works, else TCG; kvm = KVM or exit; tcg = never KVM. */
export type Accelerator = 'auto' | 'kvm' | 'tcg';
/** Emulated NIC models (the CRD's list); each has a PXE ROM in Debian's ipxe-qemu. */
export const NIC_MODELS = ['virtio-net-pci', 'e1000', 'e1000e', 'rtl8139'] as const;
export type NicModel = (typeof NIC_MODELS)[number];

export interface ExtraDisk {
  path: string;
  /** qemu-img size used to create the disk when it is missing; null = never create. */
  size: string | null;
}

export interface VmConfig {
  memoryMiB: number;
  cpus: number;
  /** From VM_ACCELERATOR, or ENABLE_KVM when that is unset (true → auto, false → tcg). */
  accelerator: Accelerator;
  vncPort: number;
  /** '' = no disk. */
  disk: string;
  /** qemu-img size (e.g. "20G") used to create `disk` when it is missing; null = never create. */
  diskSize: string | null;
  /** Further disks (VM_EXTRA_DISKS), after the first; never in the boot order. */
  extraDisks: ExtraDisk[];
  cdrom: string | null;
  /** Default boot order when no override is set (c = disk, d = CD-ROM, n = network); unlisted devices follow. */
  boot: BootDevice[];
  bootMenuTimeoutMs: number;
  /** Host interfaces given to the VM as TAP NICs; the word "user" means QEMU user-mode networking. */
  networks: string[];
  /** One MAC per `networks` entry (VM_NETWORK_MACS); empty = derived from the VM UUID. */
  networkMacs: string[];
  /** One model per `networks` entry (VM_NETWORK_MODELS, default virtio-net-pci). */
  networkModels: NicModel[];
  extraArgs: string[];
  /** Firmware when no boot override says otherwise. */
  bootMode: 'Legacy' | 'UEFI';
}

export interface AgentConfig {
  mode: 'managed' | 'attach';
  stateDir: string;
  /** QMP socket: a unix path, or tcp:host:port in attach mode. */
  qmpSocket: string;
  ipmi: {
    user: string;
    password: string;
    /** True when IPMI_PASS was not set and the seed's default password is in use. */
    defaultPassword: boolean;
    port: number;
    cipherSuites: number[];
    allowV15: boolean;
    maxSessions: number;
    sessionTimeoutS: number;
  };
  redfish: {
    port: number;
    sessionTimeoutS: number;
    tlsCert: string | null;
    tlsKey: string | null;
    /** REDFISH_EVENT_DESTINATIONS: CIDRs/hostnames push events may go to; null = any. */
    eventDestinations: string[] | null;
  };
  serialAddr: HostPort;
  vncAddr: HostPort;
  /** In-band IPMI listener for QEMU's ipmi-bmc-extern; null = disabled. */
  vmIpmiAddr: HostPort | null;
  /** Advertised BMC address: IPMI LAN parameter 3 and the Redfish EthernetInterface. */
  bmcAddress: string;
  /** null = derived from the VM UUID. */
  bmcMac: string | null;
  /** null = generated once and kept in STATE_DIR/vm-uuid. */
  vmUuid: string | null;
  powerOnAtStart: boolean;
  /** POWER_RESTORE_POLICY: applied to the BMC state at every start; null = the stored policy persists. */
  powerRestorePolicy: PowerRestorePolicy | null;
  /** CONSOLE_ENABLED: serve the noVNC console (/novnc, /websockify). */
  consoleEnabled: boolean;
  /** CONSOLE_MAX: concurrent noVNC consoles (the next one gets 503). */
  consoleMax: number;
  /** ACPI shutdown wait before forcing power off (GracefulShutdown, SIGTERM). */
  gracefulShutdownTimeoutS: number;
  /** Managed mode, agent SIGTERM/SIGINT: shut the VM down (true) or leave it running for the next agent to adopt. */
  stopVmOnExit: boolean;
  /** Verify HTTPS certificates of virtual media servers. */
  virtualMediaTlsVerify: boolean;
  metrics: boolean;
  logLevel: LogLevel;
  debug: boolean;
  vm: VmConfig;
  /** Non-fatal findings to log once the logger exists. */
  warnings: string[];
}

/** Cipher suites the IPMI LAN layer implements (IPMI 2.0 table 22-20 IDs). */
export const SUPPORTED_CIPHER_SUITES = [0, 1, 2, 3, 15, 16, 17] as const;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// --- small readers; each throws ConfigError naming its variable ---

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function integer(env: Env, name: string, def: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new ConfigError(name, `must be an integer ${min}..${max}`, v);
  return Number(v);
}

function boolean(env: Env, name: string, def: boolean): boolean {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return def;
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, 'must be true or false', env[name]);
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return def;
  const found = allowed.find((a) => a.toLowerCase() === v);
  if (found === undefined) throw new ConfigError(name, `must be one of ${allowed.join(', ')}`, env[name]);
  return found;
}

/** "host:port", ":port" (all interfaces) or "[v6]:port". */
function hostPort(env: Env, name: string, def: string | null, defaultHost: string): HostPort | null {
  const v = raw(env, name) ?? def;
  if (v === null) return null;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(v);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65535) throw new ConfigError(name, 'must be host:port with port 1..65535', v);
  const host = m[1] ?? m[2] ?? '';
  if (host !== '' && m[1] === undefined && !/^[A-Za-z0-9.-]+$/.test(host))
    throw new ConfigError(name, 'must be host:port with a hostname or IP address', v);
  return { host: host === '' ? defaultHost : host, port };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const NET_IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

function cipherSuites(env: Env, warnings: string[]): number[] {
  const name = 'IPMI_CIPHER_SUITES';
  const v = raw(env, name) ?? '3,17';
  const allowed = `a comma-separated list of ${SUPPORTED_CIPHER_SUITES.join(', ')}`;
  const ids = v.split(',').map((s) => s.trim());
  if (ids.some((s) => !/^\d+$/.test(s) || !(SUPPORTED_CIPHER_SUITES as readonly number[]).includes(Number(s))))
    throw new ConfigError(name, `must be ${allowed}`, v);
  const unique = [...new Set(ids.map(Number))];
  if (unique.includes(0))
    warnings.push(
      'IPMI_CIPHER_SUITES includes 0: sessions without authentication, integrity or encryption are accepted',
    );
  return unique;
}

function networks(env: Env): string[] {
  const v = raw(env, 'VM_NETWORKS');
  if (v === undefined) return [];
  const names = v.split(',').map((s) => s.trim());
  for (const n of names)
    if (!NET_IFNAME.test(n))
      throw new ConfigError('VM_NETWORKS', 'must be comma-separated interface names (1-15 of A-Z a-z 0-9 _ . -)', v);
  return names;
}

function diskSize(env: Env): string | null {
  const v = raw(env, 'VM_DISK_SIZE');
  if (v === undefined) return null;
  if (!/^[1-9]\d*[KMGT]?$/.test(v)) throw new ConfigError('VM_DISK_SIZE', 'must be a size like 512M, 20G or 1T', v);
  return v;
}

function extraDisks(env: Env): ExtraDisk[] {
  const v = raw(env, 'VM_EXTRA_DISKS');
  const sizes = raw(env, 'VM_EXTRA_DISK_SIZES');
  if (v === undefined) {
    if (sizes !== undefined) throw new ConfigError('VM_EXTRA_DISK_SIZES', 'needs VM_EXTRA_DISKS', sizes);
    return [];
  }
  const paths = v.split(',').map((s) => s.trim());
  if (paths.some((p) => !p.startsWith('/') && !p.startsWith('./')))
    throw new ConfigError('VM_EXTRA_DISKS', 'must be comma-separated absolute paths (or ./…)', v);
  if (new Set(paths).size !== paths.length) throw new ConfigError('VM_EXTRA_DISKS', 'must not repeat a path', v);
  if (sizes === undefined) return paths.map((path) => ({ path, size: null }));
  const list = sizes.split(',').map((s) => s.trim());
  if (list.length !== paths.length || list.some((s) => s !== '' && !/^[1-9]\d*[KMGT]?$/.test(s)))
    throw new ConfigError(
      'VM_EXTRA_DISK_SIZES',
      `must be ${paths.length} comma-separated sizes like 20G (empty = never create), one per VM_EXTRA_DISKS entry`,
      sizes,
    );
  return paths.map((path, i) => ({ path, size: list[i] === '' ? null : (list[i] as string) }));
}

/** VM_BOOT: one device (the seed's form) or an order like n,c,d; devices not listed keep their place after. */
function bootOrder(env: Env): BootDevice[] {
  const v = raw(env, 'VM_BOOT');
  if (v === undefined) return ['c'];
  const list = v.split(',').map((s) => s.trim().toLowerCase());
  if (list.some((d) => d !== 'c' && d !== 'd' && d !== 'n') || new Set(list).size !== list.length)
    throw new ConfigError('VM_BOOT', 'must be c, d or n, or an order of them like n,c,d (each once)', v);
  return list as BootDevice[];
}

/** VM_ACCELERATOR wins; ENABLE_KVM alone keeps the seed's meaning; ENABLE_KVM=false next to auto or kvm is refused. */
function accelerator(env: Env): Accelerator {
  const enableKvm = boolean(env, 'ENABLE_KVM', true);
  if (raw(env, 'VM_ACCELERATOR') === undefined) return enableKvm ? 'auto' : 'tcg';
  const chosen = oneOf<Accelerator>(env, 'VM_ACCELERATOR', 'auto', ['auto', 'kvm', 'tcg']);
  if (chosen !== 'tcg' && raw(env, 'ENABLE_KVM') !== undefined && !enableKvm)
    throw new ConfigError('VM_ACCELERATOR', 'contradicts ENABLE_KVM=false (use tcg, or unset ENABLE_KVM)', chosen);
  return chosen;
}

function networkMacs(env: Env, count: number): string[] {
  const v = raw(env, 'VM_NETWORK_MACS');
  if (v === undefined) return [];
  if (count === 0) throw new ConfigError('VM_NETWORK_MACS', 'needs VM_NETWORKS', v);
  const macs = v.split(',').map((s) => s.trim().toLowerCase());
  const problem = `must be ${count} comma-separated unicast MACs like 52:54:00:12:34:56, one per VM_NETWORKS entry`;
  if (macs.length !== count) throw new ConfigError('VM_NETWORK_MACS', problem, v);
  // Bit 0 of the first byte marks a multicast address, which no NIC may have.
  for (const mac of macs)
    if (!MAC.test(mac) || (Number.parseInt(mac.slice(0, 2), 16) & 1) === 1)
      throw new ConfigError('VM_NETWORK_MACS', problem, v);
  if (new Set(macs).size !== macs.length) throw new ConfigError('VM_NETWORK_MACS', 'must not repeat a MAC', v);
  return macs;
}

function networkModels(env: Env, count: number): NicModel[] {
  const v = raw(env, 'VM_NETWORK_MODELS');
  if (v === undefined) return Array.from({ length: count }, () => 'virtio-net-pci');
  if (count === 0) throw new ConfigError('VM_NETWORK_MODELS', 'needs VM_NETWORKS', v);
  const models = v.split(',').map((s) => s.trim());
  if (models.length !== count || models.some((m) => !(NIC_MODELS as readonly string[]).includes(m)))
    throw new ConfigError(
      'VM_NETWORK_MODELS',
      `must be ${count} comma-separated models of ${NIC_MODELS.join(', ')}, one per VM_NETWORKS entry`,
      v,
    );
  return models as NicModel[];
}

const RESTORE_POLICIES: Record<string, PowerRestorePolicy> = {
  alwaysoff: 'always-off',
  previous: 'previous',
  alwayson: 'always-on',
};

function restorePolicy(env: Env): PowerRestorePolicy | null {
  const v = raw(env, 'POWER_RESTORE_POLICY');
  if (v === undefined) return null;
  const policy = RESTORE_POLICIES[v.toLowerCase().replace(/-/g, '')];
  if (!policy) throw new ConfigError('POWER_RESTORE_POLICY', 'must be one of AlwaysOff, Previous, AlwaysOn', v);
  return policy;
}

/** REDFISH_EVENT_DESTINATIONS: CIDRs, bare IPs or hostnames (".example.com" = any name under it). */
function eventDestinations(env: Env): string[] | null {
  const v = raw(env, 'REDFISH_EVENT_DESTINATIONS');
  if (v === undefined) return null;
  const entries = v.split(',').map((s) => s.trim());
  for (const e of entries) {
    const [addr, bits, more] = e.split('/');
    const family = isIP(addr ?? '');
    const ok =
      more === undefined &&
      (bits === undefined
        ? family !== 0 ||
          /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(e)
        : family !== 0 && /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
    if (!ok)
      throw new ConfigError(
        'REDFISH_EVENT_DESTINATIONS',
        'must be comma-separated CIDRs (10.0.0.0/8, ::1/128), IP addresses or hostnames (.example.com = subdomains)',
        v,
      );
  }
  return entries;
}

function hasControlOrColon(s: string): boolean {
  for (const ch of s) if (ch === ':' || ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) return true;
  return false;
}

function credentials(env: Env): { user: string; password: string } {
  const user = env['IPMI_USER'] ?? 'admin';
  if (user === '' || Buffer.byteLength(user) > 16 || hasControlOrColon(user))
    throw new ConfigError('IPMI_USER', 'must be 1..16 bytes without control characters or ":"', user);
  const password = env['IPMI_PASS'] ?? 'password';
  if (password === '' || Buffer.byteLength(password) > 20 || password.includes('\0'))
    throw new ConfigError('IPMI_PASS', 'must be 1..20 bytes (IPMI limit)', undefined);
  return { user, password };
}

/**
 * QEMU_MODE: explicit managed|attach; unset → attach when QMP_SOCK is set (the seed's binary mode, an existing QEMU),
 * managed otherwise.
 */
function mode(env: Env): 'managed' | 'attach' {
  const explicit = raw(env, 'QEMU_MODE');
  if (explicit !== undefined) return oneOf(env, 'QEMU_MODE', 'managed', ['managed', 'attach'] as const);
  return raw(env, 'QMP_SOCK') !== undefined ? 'attach' : 'managed';
}

export interface HostFacts {
  /** First non-internal IPv4 address of the host, used when BMC_ADDRESS is unset. */
  primaryIPv4(): string | null;
}

export function parseConfig(env: Env, host: HostFacts): AgentConfig {
  const warnings: string[] = [];
  const qemuMode = mode(env);
  const stateDir = raw(env, 'STATE_DIR') ?? '/var/lib/qemu-bmc';
  if (!stateDir.startsWith('/') && !stateDir.startsWith('.'))
    throw new ConfigError('STATE_DIR', 'must be an absolute path or start with ./', stateDir);
  const qmpSocket = raw(env, 'QMP_SOCK') ?? (qemuMode === 'attach' ? '/var/run/qemu/qmp.sock' : `${stateDir}/qmp.sock`);
  // sun_path holds 108 bytes including the terminating NUL; QEMU fails obscurely beyond that.
  if (!qmpSocket.startsWith('tcp:') && Buffer.byteLength(qmpSocket) > 107)
    throw new ConfigError(
      raw(env, 'QMP_SOCK') === undefined ? 'STATE_DIR' : 'QMP_SOCK',
      'makes the QMP socket path longer than 107 bytes (unix socket limit)',
      raw(env, 'QMP_SOCK') ?? stateDir,
    );
  if (qemuMode === 'managed' && qmpSocket.startsWith('tcp:'))
    throw new ConfigError('QMP_SOCK', 'must be a unix socket path in managed mode', qmpSocket);
  if (qmpSocket.startsWith('tcp:') && !/^tcp:[^:]+:\d{1,5}$/.test(qmpSocket))
    throw new ConfigError('QMP_SOCK', 'must be a unix socket path or tcp:host:port', qmpSocket);

  const { user, password } = credentials(env);
  const ipmiPort = integer(env, 'IPMI_PORT', 623, 1, 65535);
  const redfishPort = integer(env, 'REDFISH_PORT', 443, 1, 65535);
  const tlsCert = raw(env, 'TLS_CERT') ?? null;
  const tlsKey = raw(env, 'TLS_KEY') ?? null;
  if (tlsCert !== null && tlsKey === null)
    throw new ConfigError('TLS_KEY', 'must be set when TLS_CERT is set', undefined);
  if (tlsKey !== null && tlsCert === null)
    throw new ConfigError('TLS_CERT', 'must be set when TLS_KEY is set', undefined);

  const vncPort = integer(env, 'VNC_PORT', 5900, 5900, 65535);
  // The seed's SERIAL_ADDR default (localhost:9002) collides with its own VM_IPMI_ADDR example (:9002); we use 9003.
  const serialAddr = hostPort(env, 'SERIAL_ADDR', '127.0.0.1:9003', '127.0.0.1')!;
  const vncAddr = hostPort(env, 'VNC_ADDR', `127.0.0.1:${vncPort}`, '127.0.0.1')!;
  const vmIpmiAddr = hostPort(env, 'VM_IPMI_ADDR', null, '0.0.0.0');
  if (vmIpmiAddr && vmIpmiAddr.port === serialAddr.port && qemuMode === 'managed')
    throw new ConfigError('VM_IPMI_ADDR', `must not use the SERIAL_ADDR port ${serialAddr.port}`, env['VM_IPMI_ADDR']);

  const bmcAddress = raw(env, 'BMC_ADDRESS') ?? host.primaryIPv4() ?? '127.0.0.1';
  if (isIP(bmcAddress) !== 4) throw new ConfigError('BMC_ADDRESS', 'must be an IPv4 address', bmcAddress);
  const bmcMac = raw(env, 'BMC_MAC')?.toLowerCase() ?? null;
  if (bmcMac !== null && !MAC.test(bmcMac))
    throw new ConfigError('BMC_MAC', 'must be six hex bytes separated by colons', env['BMC_MAC']);
  const vmUuid = raw(env, 'VM_UUID')?.toLowerCase() ?? null;
  if (vmUuid !== null && !UUID.test(vmUuid))
    throw new ConfigError('VM_UUID', 'must be a UUID like 8-4-4-4-12 hex digits', env['VM_UUID']);

  const debug = boolean(env, 'DEBUG', false);
  const logLevel = oneOf<LogLevel>(env, 'LOG_LEVEL', debug ? 'debug' : 'info', LOG_LEVELS);

  let extraArgs: string[];
  try {
    extraArgs = splitShellWords(env['QEMU_EXTRA_ARGS'] ?? '');
  } catch (err) {
    throw new ConfigError(
      'QEMU_EXTRA_ARGS',
      `must be shell-style words (${(err as Error).message})`,
      env['QEMU_EXTRA_ARGS'],
    );
  }
  const accel = accelerator(env);
  if (extraArgs.some((a) => a === '-enable-kvm' || /accel=kvm/.test(a)) && accel === 'tcg')
    throw new ConfigError(
      'QEMU_EXTRA_ARGS',
      'must not enable KVM when ENABLE_KVM=false or VM_ACCELERATOR=tcg',
      env['QEMU_EXTRA_ARGS'],
    );

  const disk = env['VM_DISK'] === undefined ? '/vm/disk.qcow2' : env['VM_DISK'].trim();
  const size = diskSize(env);
  if (size !== null && disk === '')
    throw new ConfigError('VM_DISK_SIZE', 'needs VM_DISK to name the disk to create', size);
  const extra = extraDisks(env);
  if (disk !== '' && extra.some((d) => d.path === disk))
    throw new ConfigError('VM_EXTRA_DISKS', 'must not repeat VM_DISK', env['VM_EXTRA_DISKS']);
  const nets = networks(env);

  const cfg: AgentConfig = {
    mode: qemuMode,
    stateDir,
    qmpSocket,
    ipmi: {
      user,
      password,
      defaultPassword: env['IPMI_PASS'] === undefined,
      port: ipmiPort,
      cipherSuites: cipherSuites(env, warnings),
      allowV15: boolean(env, 'IPMI_ALLOW_V15', false),
      maxSessions: integer(env, 'IPMI_MAX_SESSIONS', 16, 1, 63),
      sessionTimeoutS: integer(env, 'IPMI_SESSION_TIMEOUT', 60, 5, 3600),
    },
    redfish: {
      port: redfishPort,
      sessionTimeoutS: integer(env, 'REDFISH_SESSION_TIMEOUT', 1800, 30, 86400),
      tlsCert,
      tlsKey,
      eventDestinations: eventDestinations(env),
    },
    serialAddr,
    vncAddr,
    vmIpmiAddr,
    bmcAddress,
    bmcMac,
    vmUuid,
    powerOnAtStart: boolean(env, 'POWER_ON_AT_START', false),
    powerRestorePolicy: restorePolicy(env),
    consoleEnabled: boolean(env, 'CONSOLE_ENABLED', true),
    consoleMax: integer(env, 'CONSOLE_MAX', 4, 1, 64),
    gracefulShutdownTimeoutS: integer(env, 'GRACEFUL_SHUTDOWN_TIMEOUT', 60, 1, 3600),
    stopVmOnExit: boolean(env, 'VM_STOP_ON_EXIT', true),
    virtualMediaTlsVerify: boolean(env, 'VIRTUAL_MEDIA_TLS_VERIFY', true),
    metrics: boolean(env, 'METRICS', true),
    logLevel,
    debug,
    vm: {
      memoryMiB: integer(env, 'VM_MEMORY', 2048, 16, 1048576),
      cpus: integer(env, 'VM_CPUS', 2, 1, 256),
      accelerator: accel,
      vncPort,
      disk,
      diskSize: size,
      extraDisks: extra,
      cdrom: raw(env, 'VM_CDROM') ?? null,
      boot: bootOrder(env),
      bootMenuTimeoutMs: integer(env, 'VM_BOOT_MENU_TIMEOUT', 0, 0, 65535),
      networks: nets,
      networkMacs: networkMacs(env, nets.length),
      networkModels: networkModels(env, nets.length),
      extraArgs,
      bootMode: oneOf(env, 'VM_BOOT_MODE', 'bios', ['bios', 'uefi'] as const) === 'uefi' ? 'UEFI' : 'Legacy',
    },
    warnings,
  };
  if (ipmiPort === redfishPort) warnings.push(`IPMI_PORT and REDFISH_PORT are both ${ipmiPort} (UDP and TCP; allowed)`);
  if (cfg.ipmi.defaultPassword) warnings.push('IPMI_PASS is not set: the default password "password" is in use');
  return cfg;
}
