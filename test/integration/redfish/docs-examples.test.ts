// Every curl example in docs/redfish.md, in order, against an agent driving real QEMU. Each ```bash block
// is followed by <!-- expect: CODES -->: the HTTP status of each curl call in it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type TestAgent } from './agent.ts';
import { type ImageServer, runCurl, startImageServer } from './tools.ts';

const doc = readFileSync(join(import.meta.dirname, '../../../docs/redfish.md'), 'utf8');
const examples = [...doc.matchAll(/```bash\n([\s\S]*?)```\n<!-- expect: ([\d ]+) -->/g)].map((m, i) => ({
  n: i + 1,
  snippet: m[1] ?? '',
  codes: (m[2] ?? '').trim().split(/\s+/).map(Number),
}));

describe('docs/redfish.md examples against real QEMU', () => {
  let agent: TestAgent;
  let images: ImageServer;
  beforeAll(async () => {
    images = await startImageServer();
    agent = await startAgent('while true; do sleep 60; done');
  });
  afterAll(async () => {
    await agent?.stop();
    await images?.close();
  });

  it('the page has examples, each with expectations, and every curl line is covered', () => {
    expect(examples.length).toBeGreaterThan(15);
    const curlCalls = doc.split('\n').filter((l) => /(^|\$\()curl /.test(l.trim())).length;
    const expected = examples.reduce((n, e) => n + e.codes.length, 0);
    expect(expected).toBe(curlCalls);
  });

  it.each(examples)('example $n', async ({ snippet, codes }) => {
    const run = await runCurl(snippet, { BMC: agent.hostPort, IMAGE_URL: images.url('boot.iso') });
    expect(run.codes, `${snippet}\n--- stdout:\n${run.stdout.slice(0, 2000)}\n--- stderr:\n${run.stderr}`).toEqual(
      codes,
    );
  });
});
