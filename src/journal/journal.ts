import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { StatusRecord } from '../wms/types.js';

/** Version written in the journal's header; a newer journal is set aside, not read. */
export const JOURNAL_VERSION = 1;

/** One step a job still owes the central service, in the order it must happen. */
export type OutboxAction =
  | { kind: 'status'; record: StatusRecord }
  | { kind: 'upload'; archive: string; sha256: string; size: number; format: 'tar.zst' | 'tar.bz2' }
  | { kind: 'assign' }
  | { kind: 'reschedule' };

/** A journalled action with its place in the job's order. */
export interface JournalAction {
  seq: number;
  action: OutboxAction;
}

/** Journal state of one job that is not closed yet. */
export interface JournalJob {
  jobId: number;
  /** The job's folder, kept until every action is done. */
  folder: string;
  /** Marker in the environment of the job's payload processes, to find them after a crash. */
  marker?: string;
  actions: JournalAction[];
  /** Reference of the sandbox the last done upload made, which an assignment assigns. */
  uploadedPfn?: string;
  /** Commands from heartbeat responses that were not acted on yet. */
  commands: string[];
  /** True once the job's last step (final status, kill report or reschedule) was journalled. */
  ended: boolean;
}

/** Tells whether an action ends the job at the service: nothing follows it. */
export function isEndingAction(action: OutboxAction): boolean {
  if (action.kind === 'reschedule') return true;
  if (action.kind !== 'status') return false;
  const { Status, MinorStatus } = action.record;
  return (
    Status === 'Done' ||
    Status === 'Failed' ||
    Status === 'Completed' ||
    Status === 'Killed' ||
    MinorStatus === 'Received Kill signal'
  );
}

type Entry =
  | { type: 'header'; version: number; pilotStamp: string }
  | { type: 'job'; jobId: number; folder: string; marker?: string }
  | { type: 'action'; jobId: number; seq: number; action: OutboxAction }
  | { type: 'done'; jobId: number; seq: number; pfn?: string }
  | { type: 'command'; jobId: number; command: string }
  | { type: 'command-done'; jobId: number; command: string }
  | { type: 'ended'; jobId: number }
  | { type: 'closed'; jobId: number };

const FILE_NAME = 'journal.jsonl';

/**
 * The pilot's on-disk journal in its work folder. Every status record, every pending upload
 * and assignment, and every command from a heartbeat response is written here (and synced to
 * disk) before it is sent or acted on, so that a pilot restarted on the same folder after a
 * crash delivers what was left exactly once.
 */
export class Journal {
  private readonly jobs = new Map<number, JournalJob>();
  private fd: number | undefined;
  private nextSeq = 1;
  private stamp: string | undefined;

  private constructor(
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  /**
   * Opens the journal of `workDir`, reading what an earlier pilot left. A journal that is
   * corrupt or from a newer version is renamed aside with a warning and a new one started.
   */
  static open(workDir: string, log: Logger): Journal {
    mkdirSync(workDir, { recursive: true });
    const journal = new Journal(join(workDir, FILE_NAME), log);
    journal.load();
    return journal;
  }

  /** Pilot stamp recorded by the pilot that wrote the journal, if any. */
  get pilotStamp(): string | undefined {
    return this.stamp;
  }

  /** Jobs that still owe the service something, or whose end was not recorded. */
  openJobs(): JournalJob[] {
    return [...this.jobs.values()];
  }

  /** Returns the journal state of one job. */
  job(jobId: number): JournalJob | undefined {
    return this.jobs.get(jobId);
  }

  /** Starts the journal file anew with the given pilot stamp and the jobs still open. */
  start(pilotStamp: string): void {
    this.stamp = pilotStamp;
    for (const job of [...this.jobs.values()]) {
      // An ended job whose actions are all done owes nothing, though its close was not written.
      if (job.ended && job.actions.length === 0) this.jobs.delete(job.jobId);
    }
    this.rewrite();
  }

  /** Records a job the pilot took, and its folder. */
  addJob(jobId: number, folder: string, marker?: string): void {
    this.jobs.set(jobId, { ...newJob(jobId, folder), marker });
    this.append({ type: 'job', jobId, folder, marker });
  }

  /** Records actions a job owes the service, in order, and returns them with their numbers. */
  addActions(jobId: number, actions: OutboxAction[]): JournalAction[] {
    const job = this.requireJob(jobId);
    const added = actions.map((action) => ({ seq: this.nextSeq++, action }));
    for (const entry of added) this.append({ type: 'action', jobId, ...entry });
    job.actions.push(...added);
    if (actions.some(isEndingAction)) job.ended = true;
    return added;
  }

  /** Records that an action was done, with its result. */
  markDone(jobId: number, seq: number, result: { pfn?: string } = {}): void {
    const job = this.requireJob(jobId);
    job.actions = job.actions.filter((entry) => entry.seq !== seq);
    if (result.pfn !== undefined) job.uploadedPfn = result.pfn;
    this.append({ type: 'done', jobId, seq, ...result });
  }

  /** Records a command from a heartbeat response before it is acted on. */
  addCommand(jobId: number, command: string): void {
    const job = this.jobs.get(jobId);
    if (!job) return;
    job.commands.push(command);
    this.append({ type: 'command', jobId, command });
  }

  /** Records that a command was acted on. */
  markCommandDone(jobId: number, command: string): void {
    const job = this.jobs.get(jobId);
    if (!job || !job.commands.includes(command)) return;
    job.commands.splice(job.commands.indexOf(command), 1);
    this.append({ type: 'command-done', jobId, command });
  }

  /** Records that a job owes nothing more; it is left out of the next rewrite. */
  closeJob(jobId: number): void {
    if (!this.jobs.delete(jobId)) return;
    this.append({ type: 'closed', jobId });
  }

  /** Closes the file. */
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private requireJob(jobId: number): JournalJob {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`job ${jobId} is not in the journal; call addJob first`);
    return job;
  }

  private append(entry: Entry): void {
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    // The entry must be on disk before the request it describes is sent.
    fsyncSync(this.fd);
  }

  /** Writes the header and the open jobs to a new file and replaces the old one with it. */
  private rewrite(): void {
    this.close();
    const lines: Entry[] = [
      { type: 'header', version: JOURNAL_VERSION, pilotStamp: this.stamp ?? '' },
    ];
    for (const job of this.jobs.values()) {
      lines.push({ type: 'job', jobId: job.jobId, folder: job.folder, marker: job.marker });
      if (job.uploadedPfn !== undefined) {
        lines.push({ type: 'done', jobId: job.jobId, seq: 0, pfn: job.uploadedPfn });
      }
      for (const entry of job.actions) lines.push({ type: 'action', jobId: job.jobId, ...entry });
      if (job.ended && !job.actions.some((entry) => isEndingAction(entry.action))) {
        // Keeps the fact that the job ended when its ending action is already done.
        lines.push({ type: 'ended', jobId: job.jobId });
      }
      for (const command of job.commands)
        lines.push({ type: 'command', jobId: job.jobId, command });
    }
    const temporary = `${this.path}.new`;
    const fd = openSync(temporary, 'w');
    writeSync(fd, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.path);
  }

  private load(): void {
    if (!existsSync(this.path)) return;
    const text = readFileSync(this.path, 'utf8');
    try {
      this.replay(text);
    } catch (error) {
      const aside = `${this.path}.bad-${Date.now()}`;
      renameSync(this.path, aside);
      this.jobs.clear();
      this.log.error(
        { err: error, journal: this.path, setAside: aside },
        'journal unreadable; set aside, starting a new one',
      );
    }
  }

  private replay(text: string): void {
    const lines = text.split('\n');
    // A crash can cut the last line short; every other line must be whole.
    if (lines.at(-1) !== '') lines.pop();
    const entries = lines
      .filter((line) => line !== '')
      .map((line, index) => parseEntry(line, index));
    const header = entries[0];
    if (header?.type !== 'header') throw new Error('the first line is not a journal header');
    if (header.version > JOURNAL_VERSION) {
      throw new Error(
        `journal version ${header.version} is newer than this pilot's ${JOURNAL_VERSION}`,
      );
    }
    this.stamp = header.pilotStamp || undefined;
    for (const entry of entries.slice(1)) this.apply(entry);
  }

  private apply(entry: Entry): void {
    if (entry.type === 'job') {
      this.jobs.set(entry.jobId, { ...newJob(entry.jobId, entry.folder), marker: entry.marker });
      return;
    }
    const job = this.jobs.get((entry as { jobId: number }).jobId);
    if (!job) return;
    if (entry.type === 'action') {
      job.actions.push({ seq: entry.seq, action: entry.action });
      if (isEndingAction(entry.action)) job.ended = true;
      this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    } else if (entry.type === 'done') {
      job.actions = job.actions.filter((action) => action.seq !== entry.seq);
      if (entry.pfn !== undefined) job.uploadedPfn = entry.pfn;
      this.nextSeq = Math.max(this.nextSeq, entry.seq + 1);
    } else if (entry.type === 'command') {
      job.commands.push(entry.command);
    } else if (entry.type === 'command-done') {
      const index = job.commands.indexOf(entry.command);
      if (index >= 0) job.commands.splice(index, 1);
    } else if (entry.type === 'ended') {
      job.ended = true;
    } else if (entry.type === 'closed') {
      this.jobs.delete(entry.jobId);
    }
  }
}

function parseEntry(line: string, index: number): Entry {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`line ${index + 1} is not JSON`);
  }
  if (
    !value ||
    typeof value !== 'object' ||
    typeof (value as { type?: unknown }).type !== 'string'
  ) {
    throw new Error(`line ${index + 1} has no entry type`);
  }
  return value as Entry;
}

function newJob(jobId: number, folder: string): JournalJob {
  return { jobId, folder, actions: [], commands: [], ended: false };
}
