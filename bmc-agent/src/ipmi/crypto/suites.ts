// RMCP+ cipher suites (IPMI 2.0 table 22-20). Which IDs a BMC accepts comes from configuration.

export const AuthAlgorithm = { None: 0x00, HmacSha1: 0x01, HmacMd5: 0x02, HmacSha256: 0x03 } as const;
export const IntegrityAlgorithm = {
  None: 0x00,
  HmacSha1_96: 0x01,
  HmacMd5_128: 0x02,
  Md5_128: 0x03,
  HmacSha256_128: 0x04,
} as const;
export const ConfidentialityAlgorithm = { None: 0x00, AesCbc128: 0x01, XRc4_128: 0x02, XRc4_40: 0x03 } as const;

export interface CipherSuite {
  id: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

/** The suites this implementation can run. MD5-based and RC4 suites are deliberately absent. */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  {
    id: 0,
    auth: AuthAlgorithm.None,
    integrity: IntegrityAlgorithm.None,
    confidentiality: ConfidentialityAlgorithm.None,
  },
  {
    id: 1,
    auth: AuthAlgorithm.HmacSha1,
    integrity: IntegrityAlgorithm.None,
    confidentiality: ConfidentialityAlgorithm.None,
  },
  {
    id: 2,
    auth: AuthAlgorithm.HmacSha1,
    integrity: IntegrityAlgorithm.HmacSha1_96,
    confidentiality: ConfidentialityAlgorithm.None,
  },
  {
    id: 3,
    auth: AuthAlgorithm.HmacSha1,
    integrity: IntegrityAlgorithm.HmacSha1_96,
    confidentiality: ConfidentialityAlgorithm.AesCbc128,
  },
  {
    id: 15,
    auth: AuthAlgorithm.HmacSha256,
    integrity: IntegrityAlgorithm.None,
    confidentiality: ConfidentialityAlgorithm.None,
  },
  {
    id: 16,
    auth: AuthAlgorithm.HmacSha256,
    integrity: IntegrityAlgorithm.HmacSha256_128,
    confidentiality: ConfidentialityAlgorithm.None,
  },
  {
    id: 17,
    auth: AuthAlgorithm.HmacSha256,
    integrity: IntegrityAlgorithm.HmacSha256_128,
    confidentiality: ConfidentialityAlgorithm.AesCbc128,
  },
];

export const DEFAULT_CIPHER_SUITES: readonly number[] = [3, 17];

export function suiteById(id: number): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.id === id);
}

/** Throws for IDs this implementation cannot run, so a bad configuration fails at start-up. */
export function validateCipherSuiteIds(ids: readonly number[]): void {
  for (const id of ids) {
    if (!suiteById(id))
      throw new Error(`cipher suite ${id} is not supported (supported: ${CIPHER_SUITES.map((s) => s.id).join(', ')})`);
  }
}

export type SuiteMatch = { suite: CipherSuite; index: number } | { status: number };

/**
 * Picks the enabled suite matching the console's proposal; an undefined algorithm means "BMC's choice".
 * The returned index is the suite's position in `enabled` (the LAN parameter 23/24 entry).
 * Failure statuses follow IPMI 2.0 table 13-15.
 */
export function matchSuite(
  enabled: readonly number[],
  proposal: { auth: number | undefined; integrity: number | undefined; confidentiality: number | undefined },
): SuiteMatch {
  const candidates = enabled.map((id, index) => ({ suite: suiteById(id), index })).filter((c) => c.suite !== undefined);
  const fits = (want: number | undefined, have: number): boolean => want === undefined || want === have;
  for (const c of candidates) {
    const s = c.suite as CipherSuite;
    if (
      fits(proposal.auth, s.auth) &&
      fits(proposal.integrity, s.integrity) &&
      fits(proposal.confidentiality, s.confidentiality)
    ) {
      return { suite: s, index: c.index };
    }
  }
  const anyAuth = candidates.some((c) => fits(proposal.auth, (c.suite as CipherSuite).auth));
  if (!anyAuth) return { status: 0x04 };
  const anyIntegrity = candidates.some(
    (c) =>
      fits(proposal.auth, (c.suite as CipherSuite).auth) &&
      fits(proposal.integrity, (c.suite as CipherSuite).integrity),
  );
  if (!anyIntegrity) return { status: 0x05 };
  return { status: 0x11 };
}
