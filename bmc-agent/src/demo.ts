// `npm start`: the agent on a fresh machine with nothing configured. Managed QEMU, state in ./.state/demo,
// a small disk, unprivileged ports, and a random password kept in the state directory. Every variable can still
// be overridden from the environment.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './bmc/atomic-file.ts';
import { run } from './main.ts';

const stateDir = resolve(process.env['STATE_DIR'] ?? '.state/demo');
await mkdir(stateDir, { recursive: true, mode: 0o700 });

async function demoPassword(): Promise<string> {
  const file = join(stateDir, 'demo-password');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    // 15 characters from base64url: within IPMI's 20-byte limit, ~90 bits.
    const password = randomBytes(12).toString('base64url').slice(0, 15);
    await writeFileAtomic(file, `${password}\n`);
    return password;
  }
}

const env: NodeJS.ProcessEnv = {
  QEMU_MODE: 'managed',
  REDFISH_PORT: '8443',
  IPMI_PORT: '6230',
  VM_MEMORY: '1024',
  VM_DISK: join(stateDir, 'disk.qcow2'),
  VM_DISK_SIZE: '2G',
  VM_NETWORKS: 'user',
  BMC_ADDRESS: '127.0.0.1',
  ...process.env,
  STATE_DIR: stateDir,
};
env['IPMI_PASS'] ??= await demoPassword();

const agent = await run(env);
const user = agent.config.ipmi.user;
const pass = agent.config.ipmi.password;
const r = `https://127.0.0.1:${agent.redfishPort}`;
const ipmi = `ipmitool -I lanplus -H 127.0.0.1 -p ${agent.ipmiPort} -U ${user} -P '${pass}'`;
process.stderr.write(
  [
    '',
    'qemu-bmc demo is running (Ctrl-C stops it and shuts the VM down).',
    `  state:     ${stateDir}`,
    `  user:      ${user}`,
    `  password:  ${pass}`,
    '',
    'Try:',
    `  curl -k -u ${user}:'${pass}' ${r}/redfish/v1/Systems/1`,
    `  curl -k -u ${user}:'${pass}' -X POST -H 'Content-Type: application/json' -d '{"ResetType":"On"}' ${r}/redfish/v1/Systems/1/Actions/ComputerSystem.Reset`,
    `  ${ipmi} chassis status`,
    `  ${ipmi} chassis power off`,
    `  browser:   ${r}/novnc/   (same credentials)`,
    `  metrics:   curl -k ${r}/metrics`,
    '',
  ].join('\n'),
);
