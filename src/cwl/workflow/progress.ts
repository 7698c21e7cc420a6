/**
 * Progress of a Workflow run: the state of each step and counts of its jobs (one job per tool
 * run, many for a scatter), with a one-line summary for terminals and the job's status text.
 */

/** State of one step or one job. */
export type StepState = 'waiting' | 'running' | 'done' | 'skipped' | 'failed';

/** Job counts of one step, or summed over all steps. */
export interface JobCounts {
  total: number;
  waiting: number;
  running: number;
  done: number;
  skipped: number;
  failed: number;
}

/** Progress of one step. */
export interface StepProgress {
  /** Step id as written in the Workflow. */
  name: string;
  state: StepState;
  jobs: JobCounts;
}

/** Progress of a whole run at one moment. */
export interface ProgressSnapshot {
  /** Steps in the order they were declared. */
  steps: StepProgress[];
  /** Number of steps in each state, and `total` steps. */
  stepCounts: Record<StepState, number> & { total: number };
  /** Job counts summed over all steps. */
  jobs: JobCounts;
  /** One-line text, such as "3/7 steps done, 2 running: align (4/10), merge; 1 skipped". */
  summary: string;
}

const STATE_CODES: readonly StepState[] = ['waiting', 'running', 'done', 'skipped', 'failed'];
const FINAL_STATES = new Set<StepState>(['done', 'skipped', 'failed']);

/**
 * Per-step record. Job states sit in a byte array indexed by job, so a scatter of thousands of
 * jobs costs one byte per job and no object per job.
 */
class StepRecord {
  readonly counts: Record<StepState, number> = {
    waiting: 0,
    running: 0,
    done: 0,
    skipped: 0,
    failed: 0,
  };
  jobStates: Uint8Array;
  /** State set for the step as a whole by an update without a job index. */
  stepState: StepState | undefined;

  constructor(
    readonly name: string,
    jobs: number,
  ) {
    this.jobStates = new Uint8Array(jobs);
    this.counts.waiting = jobs;
  }

  get total(): number {
    return this.jobStates.length;
  }

  /** Sets the number of jobs; jobs already recorded keep their state. */
  resize(jobs: number): void {
    if (jobs <= this.total) return;
    const grown = new Uint8Array(jobs);
    grown.set(this.jobStates);
    this.counts.waiting += jobs - this.total;
    this.jobStates = grown;
  }

  /** Moves one job to `state`; returns false when it already was in it. */
  setJob(index: number, state: StepState): boolean {
    this.resize(index + 1);
    const previous = STATE_CODES[this.jobStates[index]!]!;
    if (previous === state) return false;
    this.counts[previous]--;
    this.counts[state]++;
    this.jobStates[index] = STATE_CODES.indexOf(state);
    return true;
  }

  /**
   * Sets the state of the whole step. A final state also finishes every unfinished job, and
   * any state moves the only job of a step that is not a scatter.
   */
  setStep(state: StepState): boolean {
    let changed = this.stepState !== state;
    this.stepState = state;
    if (!FINAL_STATES.has(state)) {
      if (this.total === 1) changed = this.setJob(0, state) || changed;
      return changed;
    }
    for (let index = 0; index < this.total; index++) {
      const previous = STATE_CODES[this.jobStates[index]!]!;
      if (!FINAL_STATES.has(previous)) changed = this.setJob(index, state) || changed;
    }
    return changed;
  }

  /** Derives the step's state from its own state and its jobs. */
  state(): StepState {
    if (this.stepState !== undefined && FINAL_STATES.has(this.stepState)) return this.stepState;
    const { running, done, skipped, failed } = this.counts;
    const finished = done + skipped + failed;
    if (this.total > 0 && finished === this.total) {
      if (failed > 0) return 'failed';
      return skipped === this.total ? 'skipped' : 'done';
    }
    if (running > 0 || finished > 0) return 'running';
    return this.stepState ?? 'waiting';
  }
}

/** Records the progress of a run's steps and jobs and reports each change. */
export class ProgressTracker {
  private readonly steps = new Map<string, StepRecord>();

  /**
   * @param onChange Called synchronously after every update that changed a state. A large
   *   scatter calls it thousands of times, so it should only store the snapshot or rate-limit
   *   its own work. An error it throws reaches the caller of the update.
   */
  constructor(private readonly onChange?: (snapshot: ProgressSnapshot) => void) {}

  /**
   * Declares a step with `jobs` jobs (default 1). Declaring it again with more jobs, once a
   * scatter's length is known, adds waiting jobs; a smaller number changes nothing.
   */
  declare(step: string, jobs = 1): void {
    if (!Number.isInteger(jobs) || jobs < 0) {
      throw new RangeError(`invalid job count ${jobs} for step ${step}: expected an integer >= 0`);
    }
    const record = this.steps.get(step);
    if (record === undefined) {
      this.steps.set(step, new StepRecord(step, jobs));
    } else if (jobs > record.total) {
      record.resize(jobs);
    } else {
      return;
    }
    this.notify();
  }

  /**
   * Moves job `jobIndex` of `step` to `state`, or the whole step when `jobIndex` is omitted.
   * A step update moves the job of a one-job step too, and a final state (done, skipped,
   * failed) finishes every unfinished job. An undeclared step is declared with enough jobs
   * to contain `jobIndex`.
   */
  update(step: string, state: StepState, jobIndex?: number): void {
    if (jobIndex !== undefined && (!Number.isInteger(jobIndex) || jobIndex < 0)) {
      throw new RangeError(
        `invalid job index ${jobIndex} for step ${step}: expected an integer >= 0`,
      );
    }
    let record = this.steps.get(step);
    if (record === undefined) {
      record = new StepRecord(step, jobIndex === undefined ? 1 : jobIndex + 1);
      this.steps.set(step, record);
    }
    const changed = jobIndex === undefined ? record.setStep(state) : record.setJob(jobIndex, state);
    if (changed) this.notify();
  }

  /** Builds a snapshot of the current progress; it shares nothing with the tracker. */
  snapshot(): ProgressSnapshot {
    const steps: StepProgress[] = [];
    const byState = { total: 0, waiting: 0, running: 0, done: 0, skipped: 0, failed: 0 };
    const jobs: JobCounts = { total: 0, waiting: 0, running: 0, done: 0, skipped: 0, failed: 0 };
    for (const record of this.steps.values()) {
      const state = record.state();
      const counts: JobCounts = { total: record.total, ...record.counts };
      steps.push({ name: record.name, state, jobs: counts });
      byState.total++;
      byState[state]++;
      for (const key of ['total', ...STATE_CODES] as const) jobs[key] += counts[key];
    }
    const snapshot: ProgressSnapshot = { steps, stepCounts: byState, jobs, summary: '' };
    snapshot.summary = formatProgressLine(snapshot, Number.POSITIVE_INFINITY);
    return snapshot;
  }

  private notify(): void {
    if (this.onChange !== undefined) this.onChange(this.snapshot());
  }
}

/**
 * Formats `snapshot` as one line of at most `maxLength` characters, such as
 * "3/7 steps done, 2 running: align (4/10), merge; 1 skipped". When the line is too long, the
 * names of running and failed steps are dropped from the end first, then the text is cut and
 * ends with "...".
 */
export function formatProgressLine(snapshot: ProgressSnapshot, maxLength: number): string {
  const byState = snapshot.stepCounts;
  const running = snapshot.steps.filter((step) => step.state === 'running').map(describeStep);
  const failed = snapshot.steps.filter((step) => step.state === 'failed').map((step) => step.name);

  for (let namesKept = running.length + failed.length; namesKept >= 0; namesKept--) {
    const keptRunning = running.slice(0, Math.min(namesKept, running.length));
    const keptFailed = failed.slice(0, Math.max(0, namesKept - running.length));
    const line = composeLine(byState, running, keptRunning, failed, keptFailed);
    if (line.length <= maxLength) return line;
    if (namesKept === 0) return truncate(line, maxLength);
  }
  return '';
}

function composeLine(
  byState: ProgressSnapshot['stepCounts'],
  running: string[],
  keptRunning: string[],
  failed: string[],
  keptFailed: string[],
): string {
  let line = `${byState.done}/${byState.total} steps done`;
  if (running.length > 0) line += `, ${running.length} running${listNames(running, keptRunning)}`;
  if (byState.skipped > 0) line += `; ${byState.skipped} skipped`;
  if (failed.length > 0) line += `; ${failed.length} failed${listNames(failed, keptFailed)}`;
  return line;
}

function listNames(all: string[], kept: string[]): string {
  if (kept.length === 0) return '';
  const more = all.length - kept.length;
  return `: ${kept.join(', ')}${more > 0 ? `, +${more} more` : ''}`;
}

/** Names a running step, with finished/total jobs when it has more than one job. */
function describeStep(step: StepProgress): string {
  if (step.jobs.total <= 1) return step.name;
  const finished = step.jobs.done + step.jobs.skipped + step.jobs.failed;
  return `${step.name} (${finished}/${step.jobs.total})`;
}

function truncate(text: string, maxLength: number): string {
  if (maxLength <= 0) return '';
  if (text.length <= maxLength) return text;
  if (maxLength <= 3) return text.slice(0, maxLength);
  return `${text.slice(0, maxLength - 3)}...`;
}
