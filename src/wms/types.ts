/**
 * Request and response shapes of the central service routes the pilot uses. Field names follow
 * the service's JSON exactly, so these objects go on the wire unchanged.
 */

/** Job id as the service numbers jobs. Maps keyed by job id use its decimal string. */
export type JobId = number;

/** Response of the token routes. `expires_in` is in seconds. */
export interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: string;
  refresh_token?: string;
}

/** Fields a pilot not registered beforehand sends with its secret exchange. */
export interface PilotRegistration {
  vo: string;
  grid_type: string;
  grid_site: string;
  status: string;
}

/** Fields of the pilot record that `PATCH /api/pilots/metadata` sets. */
export interface PilotFields {
  Status?: string;
  StatusReason?: string;
  BenchMark?: number;
  DestinationSite?: string;
  Queue?: string;
  GridSite?: string;
  GridType?: string;
  CurrentJobID?: JobId;
}

/** One line of the pilot's own log, shipped in batches. */
export interface PilotLogLine {
  /** ISO 8601 with a timezone. */
  timestamp: string;
  severity: string;
  message: string;
  scope: string;
}

/** The whole allocation the pilot runs in: the node's "match document". */
export interface MatchNode {
  site: string;
  grid_ce?: string;
  queue?: string;
  system?: Record<string, unknown>;
  'wall-time'?: number;
  'cpu-work'?: number;
  cpu?: Record<string, unknown>;
  gpu?: { count: number };
  tags?: string[];
  [extra: string]: unknown;
}

/** Free resources of the allocation now, for one match request. */
export interface MatchSlot {
  cores: number;
  'ram-mb': number;
  'wall-time': number;
  'scratch-mb'?: number;
}

/** Body of a match request without the fields the client fills in (stamp, version). */
export interface MatchRequest {
  node: MatchNode;
  slot: MatchSlot;
  /** Node benchmark in DB12 units. */
  benchmark: number;
}

/** A job the service has moved to `Matched` for this pilot. */
export interface MatchedJob {
  job_id: JobId;
  owner: string;
  owner_group: string;
  vo: string;
  /** The CWL document as YAML or JSON text. */
  workflow: string;
  workflow_params: Record<string, unknown>;
  input_sandbox: string[];
  requirements: Record<string, number>;
  credentials: { access_token: string; expires_in: number };
  /** Seconds between heartbeats. */
  heartbeat_interval: number;
}

/** Result of {@link WmsClient.match}. */
export type MatchResult =
  | { kind: 'job'; job: MatchedJob }
  | { kind: 'none'; retryAfterSeconds?: number }
  | { kind: 'refused'; detail: string };

/** One job status record. Without `timestamp`, the client stamps it with the service's clock. */
export interface StatusRecord {
  Status?: string;
  MinorStatus?: string;
  ApplicationStatus?: string;
  /** `JobWrapper` or `Pilot`. */
  Source: string;
  /** ISO 8601 with a timezone, in the service's clock. */
  timestamp?: string;
}

/** Result of a status or reschedule call, keyed by job id. */
export interface JobBatchResult {
  success: Record<string, Record<string, unknown>>;
  failed: Record<string, { detail: string }>;
}

/** Heartbeat values of one job. Memory and disk in MB, times in seconds. */
export interface HeartbeatData {
  LoadAverage?: number;
  MemoryUsed?: number;
  Vsize?: number;
  AvailableDiskSpace?: number;
  CPUConsumed?: number;
  WallClockTime?: number;
  /** Tail of the payload's output, a few KB at most. */
  StandardOutput?: string;
}

/** A command the service sends back once in a heartbeat response, such as `Kill`. */
export interface JobCommand {
  job_id: JobId;
  command: string;
  arguments: string;
}

/** Result of {@link WmsClient.heartbeat}. */
export interface HeartbeatResult {
  /** Commands for the jobs; each is delivered once, so the caller must act on every one. */
  commands: JobCommand[];
  /**
   * Jobs whose heartbeat the service rejected with a bare 500. DiracX returns that for a job
   * it does not know, but a transient fault looks the same, so drop a job only after it is
   * listed here several times in a row.
   */
  unknownJobIds: JobId[];
}

/** A job-scoped access token and when it expires. */
export interface JobToken {
  accessToken: string;
  expiresAt: Date;
}

/** Description of a packed sandbox archive for an upload. */
export interface SandboxUpload {
  /** Lowercase hex sha256 of the compressed archive bytes. */
  sha256: string;
  size: number;
  format: 'tar.zst' | 'tar.bz2';
}

/** Per-call limits. */
export interface CallOptions {
  /** Overall time for the call, all retries included, in milliseconds. */
  deadlineMs?: number;
  /** Aborts the call and its retries. */
  signal?: AbortSignal;
}
