import { isFinalState } from './job-store.js';
import type { JobState } from './types.js';

/**
 * A way a job's results were lost or duplicated:
 * - `duplicate-final-status`: two or more status records each set a final state;
 * - `duplicate-output-sandbox`: more than one output sandbox was assigned;
 * - `missing-output-sandbox`: the job is Done without an output sandbox;
 * - `missing-final-status`: no record set a final state, and the service did not end the job
 *   itself (a user's kill, or too many reschedules).
 */
export type AuditProblem =
  | 'duplicate-final-status'
  | 'duplicate-output-sandbox'
  | 'missing-output-sandbox'
  | 'missing-final-status';

/** A job with at least one audit problem, and the counts behind them. */
export interface AuditFinding {
  jobId: number;
  label: string | undefined;
  status: string;
  /** Records of the status route that set a final state. */
  finalStatusRecords: number;
  /** Output sandboxes assigned to the job. */
  outputSandboxes: number;
  problems: AuditProblem[];
}

/** Lists what is wrong with one job's results; empty when its results arrived exactly once. */
export function auditJob(job: JobState): AuditProblem[] {
  const problems: AuditProblem[] = [];
  if (job.finalStatusRecords > 1) {
    problems.push('duplicate-final-status');
  }
  if (job.outputSandboxes.length > 1) {
    problems.push('duplicate-output-sandbox');
  }
  if (job.status === 'Done' && job.outputSandboxes.length === 0) {
    problems.push('missing-output-sandbox');
  }
  if (job.finalStatusRecords === 0 && !isFinalState(job.status)) {
    problems.push('missing-final-status');
  }
  return problems;
}

/** Audits every job and returns those with a problem, in submission order. */
export function auditJobs(jobs: JobState[]): AuditFinding[] {
  const findings: AuditFinding[] = [];
  for (const job of jobs) {
    const problems = auditJob(job);
    if (problems.length > 0) {
      findings.push({
        jobId: job.id,
        label: job.label,
        status: job.status,
        finalStatusRecords: job.finalStatusRecords,
        outputSandboxes: job.outputSandboxes.length,
        problems,
      });
    }
  }
  return findings;
}
