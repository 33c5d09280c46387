import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../bmc-agent/src/config.ts';
import { splitShellWords } from '../../../bmc-agent/src/qemu/shell-words.ts';

const host = { primaryIPv4: () => '192.0.2.10' };
const parse = (env: Record<string, string>) => parseConfig(env, host);

function errorOf(env: Record<string, string>): string {
  try {
    parse(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error(`no error for ${JSON.stringify(env)}`);
}

describe('parseConfig defaults', () => {
  it("uses the seed's names and defaults, managed mode when QMP_SOCK is unset", () => {
    const c = parse({});
    expect(c.mode).toBe('managed');
    expect(c.stateDir).toBe('/var/lib/qemu-bmc');
    expect(c.qmpSocket).toBe('/var/lib/qemu-bmc/qmp.sock');
    expect(c.ipmi).toMatchObject({ user: 'admin', password: 'password', port: 623, cipherSuites: [3, 17] });
    expect(c.ipmi.allowV15).toBe(false);
    expect(c.redfish).toMatchObject({ port: 443, tlsCert: null, tlsKey: null, sessionTimeoutS: 1800 });
    expect(c.vncAddr).toEqual({ host: '127.0.0.1', port: 5900 });
    expect(c.vmIpmiAddr).toBeNull();
    expect(c.powerOnAtStart).toBe(false);
    expect(c.bmcAddress).toBe('192.0.2.10');
    expect(c.vm).toMatchObject({
      memoryMiB: 2048,
      cpus: 2,
      accelerator: 'auto',
      vncPort: 5900,
      disk: '/vm/disk.qcow2',
      diskSize: null,
      extraDisks: [],
      cdrom: null,
      boot: ['c'],
      bootMenuTimeoutMs: 0,
      networks: [],
      networkMacs: [],
      networkModels: [],
      extraArgs: [],
      bootMode: 'Legacy',
    });
    expect(c.metrics).toBe(true);
    expect(c.powerRestorePolicy).toBeNull();
    expect(c.consoleEnabled).toBe(true);
    expect(c.redfish.eventDestinations).toBeNull();
    expect(c.logLevel).toBe('info');
    expect(c.warnings.join()).toContain('IPMI_PASS is not set');
  });

  it('attach mode when QMP_SOCK is set (the seed binary mode), overridable with QEMU_MODE', () => {
    expect(parse({ QMP_SOCK: '/run/q.sock' })).toMatchObject({ mode: 'attach', qmpSocket: '/run/q.sock' });
    expect(parse({ QMP_SOCK: '/run/q.sock', QEMU_MODE: 'managed' }).mode).toBe('managed');
    expect(parse({ QEMU_MODE: 'attach' }).qmpSocket).toBe('/var/run/qemu/qmp.sock');
    expect(parse({ QEMU_MODE: 'attach', QMP_SOCK: 'tcp:127.0.0.1:4444' }).qmpSocket).toBe('tcp:127.0.0.1:4444');
  });

  it('reads every variable', () => {
    const c = parse({
      IPMI_USER: 'root',
      IPMI_PASS: 'p a s s',
      VM_IPMI_ADDR: ':9002',
      VNC_ADDR: 'vnc.local:5901',
      VM_BOOT_MODE: 'UEFI',
      DEBUG: 'true',
      VM_NETWORKS: 'eth1, tap0',
      QEMU_EXTRA_ARGS: `-device "virtio-rng-pci,id=rng0" -append 'console=ttyS0 quiet'`,
      IPMI_CIPHER_SUITES: '17',
      IPMI_ALLOW_V15: 'yes',
      BMC_MAC: '02:AA:bb:cc:dd:ee',
      VM_UUID: 'A1B2C3D4-0000-4000-8000-000000000001',
      VM_DISK_SIZE: '20G',
      TLS_CERT: '/c.pem',
      TLS_KEY: '/k.pem',
      METRICS: 'off',
      POWER_ON_AT_START: '1',
    });
    expect(c.ipmi).toMatchObject({ user: 'root', password: 'p a s s', cipherSuites: [17], allowV15: true });
    expect(c.vmIpmiAddr).toEqual({ host: '0.0.0.0', port: 9002 });
    expect(c.vncAddr).toEqual({ host: 'vnc.local', port: 5901 });
    expect(c.vm.bootMode).toBe('UEFI');
    expect(c.logLevel).toBe('debug');
    expect(c.vm.networks).toEqual(['eth1', 'tap0']);
    expect(c.vm.extraArgs).toEqual(['-device', 'virtio-rng-pci,id=rng0', '-append', 'console=ttyS0 quiet']);
    expect(c.bmcMac).toBe('02:aa:bb:cc:dd:ee');
    expect(c.vmUuid).toBe('a1b2c3d4-0000-4000-8000-000000000001');
    expect(c.vm.diskSize).toBe('20G');
    expect(c.redfish).toMatchObject({ tlsCert: '/c.pem', tlsKey: '/k.pem' });
    expect(c.metrics).toBe(false);
    expect(c.powerOnAtStart).toBe(true);
  });

  it('reads the variables the operator sets', () => {
    const c = parse({
      POWER_RESTORE_POLICY: 'AlwaysOff',
      VM_ACCELERATOR: 'kvm',
      ENABLE_KVM: 'true',
      CONSOLE_ENABLED: 'false',
      VM_DISK: '/vm/disks/root/disk.qcow2',
      VM_EXTRA_DISKS: '/vm/disks/data/disk.qcow2, /vm/disks/logs/disk.qcow2',
      VM_EXTRA_DISK_SIZES: '20G,',
      VM_BOOT: 'n,c',
      VM_NETWORKS: 'eth0,net1',
      VM_NETWORK_MACS: '52:54:00:AA:BB:01,02:00:00:00:00:02',
      VM_NETWORK_MODELS: 'e1000,virtio-net-pci',
      REDFISH_EVENT_DESTINATIONS: '127.0.0.0/8, ::1, 10.1.2.3, events.example.com, .corp.example',
    });
    expect(c.powerRestorePolicy).toBe('always-off');
    expect(c.vm.accelerator).toBe('kvm');
    expect(c.consoleEnabled).toBe(false);
    expect(c.consoleMax).toBe(4);
    expect(c.vm.extraDisks).toEqual([
      { path: '/vm/disks/data/disk.qcow2', size: '20G' },
      { path: '/vm/disks/logs/disk.qcow2', size: null },
    ]);
    expect(c.vm.boot).toEqual(['n', 'c']);
    expect(c.vm.networkMacs).toEqual(['52:54:00:aa:bb:01', '02:00:00:00:00:02']);
    expect(c.vm.networkModels).toEqual(['e1000', 'virtio-net-pci']);
    expect(c.redfish.eventDestinations).toEqual([
      '127.0.0.0/8',
      '::1',
      '10.1.2.3',
      'events.example.com',
      '.corp.example',
    ]);
    expect(parse({ POWER_RESTORE_POLICY: 'previous' }).powerRestorePolicy).toBe('previous');
    expect(parse({ POWER_RESTORE_POLICY: 'AlwaysOn' }).powerRestorePolicy).toBe('always-on');
    expect(parse({ VM_NETWORKS: 'eth0' }).vm.networkModels).toEqual(['virtio-net-pci']);
    expect(parse({ VM_BOOT: 'd' }).vm.boot).toEqual(['d']);
  });

  it('VM_ACCELERATOR wins over ENABLE_KVM; ENABLE_KVM alone keeps the seed meaning', () => {
    expect(parse({ ENABLE_KVM: 'false' }).vm.accelerator).toBe('tcg');
    expect(parse({ ENABLE_KVM: 'true' }).vm.accelerator).toBe('auto');
    expect(parse({ VM_ACCELERATOR: 'tcg' }).vm.accelerator).toBe('tcg');
    expect(parse({ VM_ACCELERATOR: 'tcg', ENABLE_KVM: 'true' }).vm.accelerator).toBe('tcg');
    expect(parse({ VM_ACCELERATOR: 'tcg', ENABLE_KVM: 'false' }).vm.accelerator).toBe('tcg');
    expect(parse({ VM_ACCELERATOR: 'auto', ENABLE_KVM: 'true' }).vm.accelerator).toBe('auto');
  });

  it('accepts cipher suite 0 only when listed, with a warning', () => {
    const c = parse({ IPMI_CIPHER_SUITES: '0,3' });
    expect(c.ipmi.cipherSuites).toEqual([0, 3]);
    expect(c.warnings.some((w) => w.includes('IPMI_CIPHER_SUITES includes 0'))).toBe(true);
  });
});

describe('parseConfig errors: one line naming the variable and what is allowed', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ VM_CPUS: 'x' }, 'VM_CPUS: must be an integer 1..256, got "x"'],
    [{ VM_CPUS: '0' }, 'VM_CPUS: must be an integer 1..256, got "0"'],
    [{ VM_MEMORY: '1.5' }, 'VM_MEMORY: must be an integer 16..1048576, got "1.5"'],
    [{ REDFISH_PORT: '70000' }, 'REDFISH_PORT: must be an integer 1..65535, got "70000"'],
    [{ IPMI_PORT: '-1' }, 'IPMI_PORT: must be an integer 1..65535, got "-1"'],
    [{ VNC_PORT: '5899' }, 'VNC_PORT: must be an integer 5900..65535, got "5899"'],
    [{ VM_BOOT_MENU_TIMEOUT: 'soon' }, 'VM_BOOT_MENU_TIMEOUT: must be an integer 0..65535, got "soon"'],
    [{ IPMI_MAX_SESSIONS: '64' }, 'IPMI_MAX_SESSIONS: must be an integer 1..63, got "64"'],
    [{ IPMI_SESSION_TIMEOUT: '1' }, 'IPMI_SESSION_TIMEOUT: must be an integer 5..3600, got "1"'],
    [{ REDFISH_SESSION_TIMEOUT: '10' }, 'REDFISH_SESSION_TIMEOUT: must be an integer 30..86400, got "10"'],
    [{ GRACEFUL_SHUTDOWN_TIMEOUT: '0' }, 'GRACEFUL_SHUTDOWN_TIMEOUT: must be an integer 1..3600, got "0"'],
    [{ ENABLE_KVM: 'maybe' }, 'ENABLE_KVM: must be true or false, got "maybe"'],
    [{ POWER_ON_AT_START: 'y' }, 'POWER_ON_AT_START: must be true or false, got "y"'],
    [{ DEBUG: '2' }, 'DEBUG: must be true or false, got "2"'],
    [{ METRICS: 'enabled' }, 'METRICS: must be true or false, got "enabled"'],
    [{ IPMI_ALLOW_V15: 'x' }, 'IPMI_ALLOW_V15: must be true or false, got "x"'],
    [{ VM_STOP_ON_EXIT: 'x' }, 'VM_STOP_ON_EXIT: must be true or false, got "x"'],
    [{ VIRTUAL_MEDIA_TLS_VERIFY: 'x' }, 'VIRTUAL_MEDIA_TLS_VERIFY: must be true or false, got "x"'],
    [{ QEMU_MODE: 'remote' }, 'QEMU_MODE: must be one of managed, attach, got "remote"'],
    [{ VM_BOOT: 'x' }, 'VM_BOOT: must be c, d or n, or an order of them like n,c,d (each once), got "x"'],
    [{ VM_BOOT: 'c,c' }, 'VM_BOOT: must be c, d or n, or an order of them like n,c,d (each once), got "c,c"'],
    [{ VM_BOOT: 'disk' }, 'VM_BOOT: must be c, d or n'],
    [{ POWER_RESTORE_POLICY: 'on' }, 'POWER_RESTORE_POLICY: must be one of AlwaysOff, Previous, AlwaysOn, got "on"'],
    [{ VM_ACCELERATOR: 'hvf' }, 'VM_ACCELERATOR: must be one of auto, kvm, tcg, got "hvf"'],
    [
      { VM_ACCELERATOR: 'kvm', ENABLE_KVM: 'false' },
      'VM_ACCELERATOR: contradicts ENABLE_KVM=false (use tcg, or unset ENABLE_KVM), got "kvm"',
    ],
    [{ VM_ACCELERATOR: 'auto', ENABLE_KVM: 'no' }, 'VM_ACCELERATOR: contradicts ENABLE_KVM=false'],
    [
      { VM_ACCELERATOR: 'tcg', QEMU_EXTRA_ARGS: '-accel kvm -machine accel=kvm' },
      'QEMU_EXTRA_ARGS: must not enable KVM when ENABLE_KVM=false or VM_ACCELERATOR=tcg',
    ],
    [{ CONSOLE_ENABLED: 'maybe' }, 'CONSOLE_ENABLED: must be true or false, got "maybe"'],
    [{ CONSOLE_MAX: '0' }, 'CONSOLE_MAX: must be an integer 1..64, got "0"'],
    [{ VM_EXTRA_DISKS: 'data.qcow2' }, 'VM_EXTRA_DISKS: must be comma-separated absolute paths (or ./…)'],
    [{ VM_EXTRA_DISKS: '/a,/a' }, 'VM_EXTRA_DISKS: must not repeat a path'],
    [{ VM_DISK: '/a', VM_EXTRA_DISKS: '/b,/a' }, 'VM_EXTRA_DISKS: must not repeat VM_DISK'],
    [{ VM_EXTRA_DISK_SIZES: '1G' }, 'VM_EXTRA_DISK_SIZES: needs VM_EXTRA_DISKS, got "1G"'],
    [
      { VM_EXTRA_DISKS: '/a,/b', VM_EXTRA_DISK_SIZES: '1G' },
      'VM_EXTRA_DISK_SIZES: must be 2 comma-separated sizes like 20G (empty = never create), one per VM_EXTRA_DISKS entry, got "1G"',
    ],
    [{ VM_EXTRA_DISKS: '/a', VM_EXTRA_DISK_SIZES: '1 GB' }, 'VM_EXTRA_DISK_SIZES: must be 1 comma-separated'],
    [{ VM_NETWORK_MACS: '52:54:00:00:00:01' }, 'VM_NETWORK_MACS: needs VM_NETWORKS'],
    [
      { VM_NETWORKS: 'eth0,eth1', VM_NETWORK_MACS: '52:54:00:00:00:01' },
      'VM_NETWORK_MACS: must be 2 comma-separated unicast MACs like 52:54:00:12:34:56, one per VM_NETWORKS entry, got "52:54:00:00:00:01"',
    ],
    [{ VM_NETWORKS: 'eth0', VM_NETWORK_MACS: '52-54-00-00-00-01' }, 'VM_NETWORK_MACS: must be 1 comma-separated'],
    [{ VM_NETWORKS: 'eth0', VM_NETWORK_MACS: '01:00:5e:00:00:01' }, 'VM_NETWORK_MACS: must be 1 comma-separated'],
    [
      { VM_NETWORKS: 'eth0,eth1', VM_NETWORK_MACS: '52:54:00:00:00:01,52:54:00:00:00:01' },
      'VM_NETWORK_MACS: must not repeat a MAC',
    ],
    [{ VM_NETWORK_MODELS: 'e1000' }, 'VM_NETWORK_MODELS: needs VM_NETWORKS'],
    [
      { VM_NETWORKS: 'eth0', VM_NETWORK_MODELS: 'ne2k_pci' },
      'VM_NETWORK_MODELS: must be 1 comma-separated models of virtio-net-pci, e1000, e1000e, rtl8139, one per VM_NETWORKS entry, got "ne2k_pci"',
    ],
    [{ VM_NETWORKS: 'eth0,eth1', VM_NETWORK_MODELS: 'e1000' }, 'VM_NETWORK_MODELS: must be 2 comma-separated'],
    [{ REDFISH_EVENT_DESTINATIONS: '10.0.0.0/33' }, 'REDFISH_EVENT_DESTINATIONS: must be comma-separated CIDRs'],
    [{ REDFISH_EVENT_DESTINATIONS: 'http://x/' }, 'REDFISH_EVENT_DESTINATIONS: must be comma-separated CIDRs'],
    [{ REDFISH_EVENT_DESTINATIONS: 'host/8' }, 'REDFISH_EVENT_DESTINATIONS: must be comma-separated CIDRs'],
    [{ VM_BOOT_MODE: 'efi' }, 'VM_BOOT_MODE: must be one of bios, uefi, got "efi"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ SERIAL_ADDR: 'localhost' }, 'SERIAL_ADDR: must be host:port with port 1..65535, got "localhost"'],
    [{ VNC_ADDR: 'h:0' }, 'VNC_ADDR: must be host:port with port 1..65535, got "h:0"'],
    [{ VM_IPMI_ADDR: ':99999' }, 'VM_IPMI_ADDR: must be host:port with port 1..65535, got ":99999"'],
    [{ VM_IPMI_ADDR: ':9003' }, 'VM_IPMI_ADDR: must not use the SERIAL_ADDR port 9003, got ":9003"'],
    [{ BMC_ADDRESS: 'bmc.local' }, 'BMC_ADDRESS: must be an IPv4 address, got "bmc.local"'],
    [{ BMC_MAC: '52:54:00:12:34' }, 'BMC_MAC: must be six hex bytes separated by colons, got "52:54:00:12:34"'],
    [{ VM_UUID: 'not-a-uuid' }, 'VM_UUID: must be a UUID like 8-4-4-4-12 hex digits, got "not-a-uuid"'],
    [{ VM_DISK_SIZE: '20 GB' }, 'VM_DISK_SIZE: must be a size like 512M, 20G or 1T, got "20 GB"'],
    [{ VM_DISK: '', VM_DISK_SIZE: '1G' }, 'VM_DISK_SIZE: needs VM_DISK to name the disk to create, got "1G"'],
    [{ VM_NETWORKS: 'eth0,bad name' }, 'VM_NETWORKS: must be comma-separated interface names'],
    [{ QEMU_EXTRA_ARGS: `-name 'x` }, 'QEMU_EXTRA_ARGS: must be shell-style words (unterminated single quote)'],
    [
      { ENABLE_KVM: 'false', QEMU_EXTRA_ARGS: '-enable-kvm' },
      'QEMU_EXTRA_ARGS: must not enable KVM when ENABLE_KVM=false',
    ],
    [
      { IPMI_CIPHER_SUITES: '3,8' },
      'IPMI_CIPHER_SUITES: must be a comma-separated list of 0, 1, 2, 3, 15, 16, 17, got "3,8"',
    ],
    [{ IPMI_CIPHER_SUITES: 'x' }, 'IPMI_CIPHER_SUITES: must be a comma-separated list'],
    [{ IPMI_USER: 'a:b' }, 'IPMI_USER: must be 1..16 bytes without control characters or ":", got "a:b"'],
    [{ IPMI_USER: 'u'.repeat(17) }, 'IPMI_USER: must be 1..16 bytes'],
    [{ IPMI_PASS: 'p'.repeat(21) }, 'IPMI_PASS: must be 1..20 bytes (IPMI limit)'],
    [{ IPMI_PASS: '' }, 'IPMI_PASS: must be 1..20 bytes (IPMI limit)'],
    [{ TLS_CERT: '/c.pem' }, 'TLS_KEY: must be set when TLS_CERT is set'],
    [{ TLS_KEY: '/k.pem' }, 'TLS_CERT: must be set when TLS_KEY is set'],
    [{ STATE_DIR: 'relative' }, 'STATE_DIR: must be an absolute path or start with ./, got "relative"'],
    [{ STATE_DIR: `/${'d'.repeat(100)}` }, 'STATE_DIR: makes the QMP socket path longer than 107 bytes'],
    [{ QMP_SOCK: `/${'s'.repeat(107)}` }, 'QMP_SOCK: makes the QMP socket path longer than 107 bytes'],
    [{ QEMU_MODE: 'managed', QMP_SOCK: 'tcp:h:1' }, 'QMP_SOCK: must be a unix socket path in managed mode'],
    [{ QEMU_MODE: 'attach', QMP_SOCK: 'tcp:nope' }, 'QMP_SOCK: must be a unix socket path or tcp:host:port'],
  ];
  for (const [env, expected] of cases) {
    it(`${Object.keys(env).join('+')}=${JSON.stringify(Object.values(env).join(' ')).slice(0, 30)}`, () => {
      expect(errorOf(env)).toContain(expected);
    });
  }

  it('never echoes the rejected password', () => {
    expect(errorOf({ IPMI_PASS: 'secret-'.repeat(4) })).not.toContain('secret');
  });
});

describe('splitShellWords', () => {
  it('splits like a shell without expanding anything', () => {
    expect(splitShellWords(`  a  b\t"c d" 'e "f"' g\\ h "i\\"j" $HOME ~ *`)).toEqual([
      'a',
      'b',
      'c d',
      'e "f"',
      'g h',
      'i"j',
      '$HOME',
      '~',
      '*',
    ]);
    expect(splitShellWords('')).toEqual([]);
    expect(splitShellWords(`''`)).toEqual(['']);
    expect(splitShellWords(`a'b'"c"`)).toEqual(['abc']);
    expect(splitShellWords('a;rm -rf /')).toEqual(['a;rm', '-rf', '/']);
  });
  it('rejects unbalanced quotes and a trailing backslash', () => {
    expect(() => splitShellWords(`"a`)).toThrow('unterminated double quote');
    expect(() => splitShellWords(`'a`)).toThrow('unterminated single quote');
    expect(() => splitShellWords('a\\')).toThrow('trailing backslash');
  });
});
