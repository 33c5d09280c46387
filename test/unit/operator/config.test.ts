import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../operator/src/config.ts';

describe('operator config', () => {
  it('has safe defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      workers: 16,
      leaderElection: true,
      leaseDurationSeconds: 15,
      leaseRenewSeconds: 5,
      watchNamespace: '',
    });
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.agentEndpoints.size).toBe(0);
  });

  it('parses agent endpoint overrides', () => {
    const c = loadConfig({ AGENT_ENDPOINTS: 'lab/node1=127.0.0.1:8443, lab/node2=[::1]:9443' });
    expect([...c.agentEndpoints]).toEqual([
      ['lab/node1', '127.0.0.1:8443'],
      ['lab/node2', '[::1]:9443'],
    ]);
  });

  it.each([
    [{ WORKERS: 'many' }, /^WORKERS: 'many' is not a whole number$/],
    [{ WORKERS: '0' }, /^WORKERS: 0 is outside 1\.\.64$/],
    [{ LEADER_ELECTION: 'yes' }, /^LEADER_ELECTION: /],
    [{ LISTEN_ADDRESS: '8080' }, /^LISTEN_ADDRESS: '8080' is not host:port/],
    [
      { AGENT_ENDPOINTS: 'node1=127.0.0.1:1' },
      /^AGENT_ENDPOINTS: 'node1=127.0.0.1:1' is not namespace\/name=host:port$/,
    ],
    [{ LEASE_RENEW_SECONDS: '10' }, /^LEASE_RENEW_SECONDS: 10 must be at most half/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ WATCH_NAMESPACE: 'Bad_NS' }, /^WATCH_NAMESPACE: /],
  ])('rejects %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
