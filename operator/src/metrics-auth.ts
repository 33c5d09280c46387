// Who may read the operator's /metrics: a Kubernetes identity allowed `get` on the non-resource URL /metrics, as
// the kubelet and controller-runtime's secure metrics do it. The scraper sends a bearer token (Prometheus: its
// ServiceAccount token); the apiserver says who that is (TokenReview) and whether RBAC lets them (SubjectAccessReview).
import { createHash } from 'node:crypto';

/** The apiserver calls the authorizer needs: POST of a review object, answered with its status filled in. */
export interface ReviewClient {
  request<T>(method: string, path: string, options?: { body?: unknown }): Promise<T>;
}

export interface Decision {
  status: 200 | 401 | 403 | 503;
  reason: string;
}

export interface MetricsAuthorizer {
  authorize(authorization: string | undefined): Promise<Decision>;
}

interface TokenReview {
  status?: {
    authenticated?: boolean;
    error?: string;
    user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  };
}

interface SubjectAccessReview {
  status?: { allowed?: boolean; reason?: string };
}

/** Decisions are remembered this long, so a scrape every few seconds costs the apiserver two calls a minute. */
const CACHE_TTL_MS = 60_000;
/** Bounded: one entry per distinct token seen within the TTL (a handful of scrapers in practice). */
const CACHE_MAX = 256;

export function kubernetesMetricsAuthorizer(client: ReviewClient, now: () => number = Date.now): MetricsAuthorizer {
  const cache = new Map<string, { decision: Decision; expires: number }>();

  async function review(token: string): Promise<Decision> {
    const tokenReview = await client.request<TokenReview>('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
    });
    const user = tokenReview.status?.user;
    if (!tokenReview.status?.authenticated || !user?.username)
      return { status: 401, reason: tokenReview.status?.error ? 'token not accepted' : 'token not authenticated' };
    const access = await client.request<SubjectAccessReview>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: user.username,
            uid: user.uid,
            groups: user.groups ?? [],
            extra: user.extra ?? {},
            nonResourceAttributes: { path: '/metrics', verb: 'get' },
          },
        },
      },
    );
    if (!access.status?.allowed) return { status: 403, reason: `${user.username} may not get /metrics` };
    return { status: 200, reason: user.username };
  }

  return {
    async authorize(authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
      const token = match?.[1];
      if (!token) return { status: 401, reason: 'a bearer token is required' };
      // Keyed by a digest: the cache never holds the token itself.
      const key = createHash('sha256').update(token).digest('hex');
      const cached = cache.get(key);
      if (cached && cached.expires > now()) return cached.decision;
      let decision: Decision;
      try {
        decision = await review(token);
      } catch (err) {
        // Not cached: the next scrape asks again.
        return { status: 503, reason: `cannot review the token: ${(err as Error).message}` };
      }
      if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
      cache.set(key, { decision, expires: now() + CACHE_TTL_MS });
      return decision;
    },
  };
}
