// Container health check: the Redfish service root must answer over TLS (it needs no credentials).
import https from 'node:https';

const port = Number(process.env['REDFISH_PORT'] ?? 443);
const req = https.get(
  { host: '127.0.0.1', port, path: '/redfish/v1/', rejectUnauthorized: false, timeout: 4000 },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
