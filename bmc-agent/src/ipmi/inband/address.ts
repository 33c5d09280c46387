/** Parses VM_IPMI_ADDR-style listen addresses: ":9002", "9002", "127.0.0.1:9002", "[::1]:9002". */
export function parseListenAddress(value: string): { host: string | undefined; port: number } {
  const match = /^(?:(?:\[([^\]]+)\]|([^:[\]]*)):)?(\d+)$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`expected [host]:port with port 1..65535, got "${value}"`);
  }
  const host = match[1] ?? match[2];
  return { host: host ? host : undefined, port };
}
