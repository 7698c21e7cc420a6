/** Resource requirements of a job; a job omits any requirement it does not have. */
export interface JobRequirements {
  cores?: number;
  'ram-mb'?: number;
  /** Seconds. */
  'wall-time'?: number;
  /** Wall time × benchmark, in DB12-seconds. */
  'cpu-work'?: number;
  /** Number of GPUs. */
  gpu?: number;
  /** Node tags that must all be present, such as `cvmfs:ctao.dpps.test`. */
  tags?: string[];
}

/** A job as a test submits it. */
export interface JobSpec {
  /** The CWL document, as YAML or JSON text. */
  workflow: string;
  /** The CWL input object. Default `{}`. */
  workflow_params?: Record<string, unknown>;
  requirements?: JobRequirements;
  /** Default `jdoe`. */
  owner?: string;
  /** Default `ctao_user`. */
  owner_group?: string;
  /** Default `ctao`. */
  vo?: string;
  /** Folder packed into the input sandbox; without it the job has no input sandbox. */
  inputSandboxDir?: string;
  /** Paths relative to `inputSandboxDir` to pack. Default: every entry of the folder. */
  inputSandboxFiles?: string[];
  /** Free text shown in summaries. */
  label?: string;
}

/** One logged status record of a job, as `getJob` returns it. */
export interface HistoryEntry {
  status: string;
  minorStatus: string;
  applicationStatus: string;
  source: string;
  /** ISO 8601 with timezone, microsecond precision. */
  timestamp: string;
}

/** A command waiting for, or already given to, a heartbeat. */
export interface JobCommand {
  command: string;
  arguments: string;
  delivered: boolean;
}

/** The full state of a job inside the service. */
export interface JobState {
  id: number;
  label: string | undefined;
  owner: string;
  ownerGroup: string;
  vo: string;
  workflow: string;
  workflowParams: Record<string, unknown>;
  requirements: JobRequirements;
  inputSandbox: string[];
  status: string;
  minorStatus: string;
  applicationStatus: string;
  history: HistoryEntry[];
  /** Time of the newest status record held, in microseconds since the epoch. */
  newestRecordMicros: number;
  heartbeats: number;
  /** Service time of the last heartbeat, in microseconds since the epoch. */
  lastHeartbeatMicros: number | undefined;
  /** Values of the last heartbeat, by key. */
  lastHeartbeat: Record<string, unknown>;
  outputSandboxes: string[];
  /**
   * Records of `PATCH /api/jobs/status` that set Done, Completed, Failed or Killed, counting
   * only records newer than every earlier one and allowed by the state machine.
   */
  finalStatusRecords: number;
  metadata: Record<string, unknown>;
  rescheduleCount: number;
  commands: JobCommand[];
  /** Stamp of the pilot that matched the job; cleared on reschedule. */
  pilotStamp: string | undefined;
}

/** The copy of a job that `getJob` and `listJobs` return. */
export interface JobView {
  id: number;
  label: string | undefined;
  status: string;
  minorStatus: string;
  applicationStatus: string;
  history: HistoryEntry[];
  heartbeats: number;
  lastHeartbeat: Record<string, unknown>;
  outputSandboxes: string[];
  /** Records of the status route that set a final state; see `JobState`. */
  finalStatusRecords: number;
  inputSandbox: string[];
  metadata: Record<string, unknown>;
  rescheduleCount: number;
  pilotStamp: string | undefined;
  commands: JobCommand[];
}

/** One log line a pilot shipped through `POST /api/pilots/internal/message`. */
export interface PilotLogLine {
  timestamp: string;
  severity: string;
  message: string;
  scope: string;
}

/** A pilot known to the service. */
export interface PilotRecord {
  stamp: string;
  vo: string;
  gridType: string | undefined;
  gridSite: string | undefined;
  status: string;
  /** `StatusReason` of the last metadata update. */
  reason: string | undefined;
  /** Every other field set through `PATCH /api/pilots/metadata`. */
  metadata: Record<string, unknown>;
  messages: PilotLogLine[];
  /** Lifetime of the secret the pilot logged in with, in seconds. */
  secretLifetimeSeconds: number;
}
