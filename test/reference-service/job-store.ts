import { formatTimestamp } from './http-util.js';
import { nextJobState } from './state-machine.js';
import type { JobRequirements, JobState, JobView } from './types.js';

/** One timestamped status record of a `PATCH /api/jobs/status` body. */
export interface StatusRecord {
  micros: number;
  Status?: string;
  MinorStatus?: string;
  ApplicationStatus?: string;
  Source: string;
}

/** Attributes that a status update changed, as the status route returns them. */
export type ChangedAttributes = Partial<
  Record<'Status' | 'MinorStatus' | 'ApplicationStatus', string>
>;

/** Fields of a new job, after the service packed its input sandbox. */
export interface NewJob {
  label: string | undefined;
  owner: string;
  ownerGroup: string;
  vo: string;
  workflow: string;
  workflowParams: Record<string, unknown>;
  requirements: JobRequirements;
  inputSandbox: string[];
}

const FINAL_STATES = new Set(['Done', 'Completed', 'Failed', 'Killed', 'Deleted']);

/** Final states a pilot's status record can set, the ones exactly-once accounting counts. */
const PILOT_FINAL_STATES = new Set(['Done', 'Completed', 'Failed', 'Killed']);

/** In-memory job table with DIRAC's rules for status records, commands and reschedules. */
export class JobStore {
  private readonly jobs = new Map<number, JobState>();
  private nextId = 1;
  private readonly nowMicros: () => number;
  private readonly maxReschedules: number;

  constructor(nowMicros: () => number, maxReschedules: number) {
    this.nowMicros = nowMicros;
    this.maxReschedules = maxReschedules;
  }

  /** Adds a job and walks it to `Waiting`, as DIRAC's optimizers would. Returns its id. */
  add(fields: NewJob): number {
    const id = this.nextId++;
    const job: JobState = {
      ...fields,
      id,
      status: 'Submitting',
      minorStatus: '',
      applicationStatus: 'Unknown',
      history: [],
      newestRecordMicros: 0,
      heartbeats: 0,
      lastHeartbeatMicros: undefined,
      lastHeartbeat: {},
      outputSandboxes: [],
      finalStatusRecords: 0,
      metadata: {},
      rescheduleCount: 0,
      commands: [],
      pilotStamp: undefined,
    };
    this.jobs.set(id, job);
    this.applyRecords(job, [
      {
        micros: this.nowMicros(),
        Status: 'Received',
        MinorStatus: 'Job accepted',
        Source: 'JobManager',
      },
      {
        micros: this.nowMicros(),
        Status: 'Waiting',
        MinorStatus: 'Pilot Agent Submission',
        Source: 'JobScheduling',
      },
    ]);
    return id;
  }

  /** Returns the live job, or undefined. */
  find(id: number): JobState | undefined {
    return this.jobs.get(id);
  }

  /** Returns every live job in submission order. */
  all(): JobState[] {
    return [...this.jobs.values()];
  }

  /**
   * Applies status records the way DIRAC does. Every record is logged, but only records newer
   * than the newest one already stored change Status, MinorStatus or ApplicationStatus, in
   * time order. A Status that the state machine does not allow keeps the current state, and
   * its record's Source gets ` (SM)` appended. Returns the attributes the update set.
   * With `fromClient`, records that set a final state are counted in `finalStatusRecords`.
   */
  applyRecords(job: JobState, records: StatusRecord[], fromClient = false): ChangedAttributes {
    const sorted = [...records].sort((a, b) => a.micros - b.micros);
    const newest = job.newestRecordMicros;
    const changed: ChangedAttributes = {};
    let status = job.status;

    for (const record of sorted) {
      if (record.micros > newest) {
        status = this.applyNewerRecord(job, record, status, changed);
        if (fromClient && record.Status === status && PILOT_FINAL_STATES.has(status)) {
          job.finalStatusRecords += 1;
        }
      }
      job.history.push({
        status: record.Status ?? 'idem',
        minorStatus: record.MinorStatus ?? 'idem',
        applicationStatus: record.ApplicationStatus ?? 'idem',
        source: record.Source,
        timestamp: formatTimestamp(record.micros),
      });
      job.newestRecordMicros = Math.max(job.newestRecordMicros, record.micros);
    }

    job.status = changed.Status ?? job.status;
    job.minorStatus = changed.MinorStatus ?? job.minorStatus;
    job.applicationStatus = changed.ApplicationStatus ?? job.applicationStatus;
    return changed;
  }

  private applyNewerRecord(
    job: JobState,
    record: StatusRecord,
    current: string,
    changed: ChangedAttributes,
  ): string {
    let status = current;
    if (record.Status !== undefined) {
      status = nextJobState(current, record.Status);
      if (status !== record.Status) {
        record.Source = `${record.Source} (SM)`;
      }
      changed.Status = status;
      // Every record that sets Killed queues a Kill for the pilot, as DiracX does.
      if (status === 'Killed' && record.Status === 'Killed') {
        this.queueCommand(job.id, 'Kill');
      }
    }
    if (record.MinorStatus !== undefined) {
      changed.MinorStatus = record.MinorStatus;
    }
    if (record.ApplicationStatus !== undefined) {
      changed.ApplicationStatus = record.ApplicationStatus;
    }
    return status;
  }

  /** Queues a command for the job's next heartbeat. */
  queueCommand(jobId: number, command: string, args = ''): void {
    const job = this.jobs.get(jobId);
    if (!job) {
      throw new Error(`Job ${jobId} not found; submit it before queueing a command`);
    }
    job.commands.push({ command, arguments: args, delivered: false });
  }

  /**
   * Records a heartbeat: a Matched or Stalled job gets a Running record stamped with the
   * service's clock. Returns the commands not yet delivered, and marks them delivered.
   */
  recordHeartbeat(job: JobState, values: Record<string, unknown>): JobState['commands'] {
    const now = this.nowMicros();
    job.heartbeats += 1;
    job.lastHeartbeatMicros = now;
    job.lastHeartbeat = values;
    if (job.status === 'Matched' || job.status === 'Stalled') {
      this.applyRecords(job, [{ micros: now, Status: 'Running', Source: 'Heartbeat' }]);
    }
    const pending = job.commands.filter((command) => !command.delivered);
    for (const command of pending) {
      command.delivered = true;
    }
    return pending;
  }

  /**
   * Reschedules a job: only a Running job may go back to Received. Past the maximum number
   * of reschedules the job fails instead. Returns the changed attributes, or an error text.
   */
  reschedule(job: JobState): { changed: Record<string, unknown> } | { error: string } {
    if (job.status !== 'Running') {
      return { error: `Job ${job.id} is ${job.status}; only a Running job can be rescheduled` };
    }
    const now = Math.max(this.nowMicros(), job.newestRecordMicros + 1);
    if (job.rescheduleCount >= this.maxReschedules) {
      const changed = this.applyRecords(job, [
        {
          micros: now,
          Status: 'Failed',
          MinorStatus: 'Maximum of reschedulings reached',
          Source: 'JobManager',
        },
      ]);
      return { changed };
    }
    job.rescheduleCount += 1;
    job.pilotStamp = undefined;
    const changed = this.applyRecords(job, [
      { micros: now, Status: 'Received', MinorStatus: 'Job Rescheduled', Source: 'JobManager' },
    ]);
    return { changed: { ...changed, RescheduleCounter: job.rescheduleCount } };
  }

  /** Moves rescheduled jobs from Received back to Waiting, the work of DIRAC's optimizers. */
  requeueReceived(): void {
    for (const job of this.jobs.values()) {
      if (job.status === 'Received' && job.rescheduleCount > 0) {
        this.applyRecords(job, [
          {
            micros: Math.max(this.nowMicros(), job.newestRecordMicros + 1),
            Status: 'Waiting',
            MinorStatus: 'Pilot Agent Submission',
            Source: 'JobScheduling',
          },
        ]);
      }
    }
  }

  /** Moves Running jobs whose last heartbeat is older than `thresholdMicros` to Stalled. */
  markStalled(thresholdMicros: number): void {
    const now = this.nowMicros();
    for (const job of this.jobs.values()) {
      const last = job.lastHeartbeatMicros ?? job.newestRecordMicros;
      if (job.status === 'Running' && now - last > thresholdMicros) {
        this.applyRecords(job, [
          {
            micros: Math.max(now, job.newestRecordMicros + 1),
            Status: 'Stalled',
            MinorStatus: 'Job stalled: pilot not running',
            Source: 'StalledJobAgent',
          },
        ]);
      }
    }
  }
}

/** True when a job in this state has finished for good. */
export function isFinalState(status: string): boolean {
  return FINAL_STATES.has(status);
}

/** Copies a job for callers outside the service, so they cannot change its state. */
export function viewJob(job: JobState): JobView {
  return structuredClone({
    id: job.id,
    label: job.label,
    status: job.status,
    minorStatus: job.minorStatus,
    applicationStatus: job.applicationStatus,
    history: job.history,
    heartbeats: job.heartbeats,
    lastHeartbeat: job.lastHeartbeat,
    outputSandboxes: job.outputSandboxes,
    finalStatusRecords: job.finalStatusRecords,
    inputSandbox: job.inputSandbox,
    metadata: job.metadata,
    rescheduleCount: job.rescheduleCount,
    pilotStamp: job.pilotStamp,
    commands: job.commands,
  });
}
