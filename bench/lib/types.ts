// Shapes of bench/results/*.json.

export interface BenchOptions {
  quick: boolean;
  /** Working directory for logs and temp files of this run (removed at the end unless BENCH_KEEP=1). */
  workDir: string;
}

export interface TargetCheck {
  part: 'redfish' | 'ipmi' | 'footprint' | 'operator';
  target: string;
  /** The measured value, as text with its unit. */
  measured: string;
  /** Ratio against the best peer, or against the absolute target when there is no peer. */
  ratio: string;
  met: boolean | 'n/a';
  note?: string;
}

export interface RedfishRow {
  server: string;
  auth: 'basic' | 'session' | 'none';
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  firstError?: string;
}

export interface RedfishResults {
  url: Record<string, string>;
  durationMs: number;
  rows: RedfishRow[];
  notes: string[];
}

export interface IpmiSessionRow {
  server: string;
  sessions: number;
  failures: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (CPU time, every thread) per session; absent in runs before 2026-11-26 11:00. */
  serverCpuUsPerSession?: number;
  firstError?: string;
}

export interface IpmiCommandRow {
  server: string;
  /** Sessions side by side, one request in flight each. */
  sessions: number;
  commands: number;
  errors: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (CPU time, every thread) per command while measured; absent in runs before 2026-11-26 11:00. */
  serverCpuUsPerCommand?: number;
  firstError?: string;
}

/** Commands/s from the precomputing generator: requests built before the clock, a bounded window in flight. */
export interface IpmiPipelineRow {
  server: string;
  /** Requests in flight at most (one session). */
  window: number;
  /** Requests prepared for the timed part (the run stops earlier after `durationMs`). */
  prepared: number;
  /** Replies received in the timed part. */
  commands: number;
  lost: number;
  /** Replies checked after the clock stopped (integrity, session, decryption, command) and how many failed. */
  verified: number;
  badReplies: number;
  perSecond: number;
  /** Server CPU (CPU time, every thread) during the timed part, per reply. */
  serverCpuUsPerCommand: number;
  /** Time the generator spent building the requests (outside the clock). */
  prepareMs: number;
  firstError?: string;
}

export interface IpmiResults {
  cipherSuite: number;
  sessions: IpmiSessionRow[];
  commands: IpmiCommandRow[];
  /** Absent in runs before the precomputing generator (2026-11-26 11:00). */
  pipeline?: IpmiPipelineRow[];
  notes: string[];
}

export interface FootprintRow {
  server: string;
  startMs: number[];
  rssIdleMiB: number;
  rssLoadMiB: number;
  rssPeakMiB: number;
}

export interface FootprintResults {
  rows: FootprintRow[];
  notes: string[];
}

export interface OperatorRow {
  count: number;
  steadySeconds: number | null;
  operatorRssMiB: number;
  operatorPeakRssMiB: number;
  operatorCpuSeconds: number;
  /** From the operator's /metrics at steady state (prom-client process defaults). */
  operatorHeapUsedMiB: number;
  operatorHeapTotalMiB: number;
  operatorExternalMiB: number;
  /** Where the RSS is at steady: anonymous memory vs mapped files (code), from /proc/<pid>/status. */
  operatorRssAnonMiB?: number;
  operatorRssFileMiB?: number;
  /** V8 heap spaces at steady (prom-client nodejs_heap_space_size_{used,total}_bytes), MiB. */
  operatorHeapSpacesMiB?: Record<string, { used: number; total: number }>;
  /** apiserver_request_total delta (every client) from creating the objects to steady state, by verb. */
  apiRequestsByVerb: Record<string, number>;
  /** The operator's own requests (audit log, by user agent) per VirtualBMC, by verb. */
  operatorRequestsPerVbmc: Record<string, number>;
  idleSeconds: number;
  /** Operator writes in the idle window, excluding its Lease renewals. */
  idleWrites: number;
  idleLeaseWrites: number;
  idleCpuSeconds: number;
  idleWriteSamples: string[];
  error?: string;
}

export interface OperatorResults {
  rows: OperatorRow[];
  notes: string[];
}

export interface BenchResults {
  date: string;
  quick: boolean;
  parts: string[];
  head: { rev: string; short: string; dirty: boolean };
  machine: { cpus: number; memGiB: number; node: string; loadBefore: number[]; loadAfter: number[] };
  redfish?: RedfishResults;
  ipmi?: IpmiResults;
  footprint?: FootprintResults;
  operator?: OperatorResults;
  targets: TargetCheck[];
  errors: string[];
}
