import { startHarness } from './support.ts';

const h = await startHarness({ port: 18443 });
console.log('listening', h.server.port);
process.on('SIGTERM', async () => {
  await h.close();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
