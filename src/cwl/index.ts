/**
 * The CWL engine's contract: load a CWL v1.2 document and run it with one input object.
 * `ctao-pilot exec` and the job wrapper both go through {@link runDocument}.
 */
import type { Writable } from 'node:stream';
import type { Logger } from '../log.js';
import type { ProgressSnapshot } from './workflow/progress.js';

/** Options of {@link runDocument}. */
export interface RunDocumentOptions {
  /** Path of the document, optionally followed by `#fragment` for a packed `$graph`. */
  document: string;
  /** Document text when it does not come from a file; `document` then names where it sits. */
  documentText?: string;
  /** Input object, as parsed from the job file or the job's `workflow_params`. */
  job: Record<string, unknown>;
  /** Folder against which relative `location` and `path` values of the input object resolve. */
  jobBaseDir: string;
  /** Folder that receives the outputs; created when missing. */
  outdir: string;
  /** Folder under which the run makes its temporary and staging folders. Default: os.tmpdir(). */
  tmpdirPrefix?: string;
  /**
   * Cores and memory (MiB) the run may use; caps `ResourceRequirement`. With `wholeShare`, a
   * tool run directly (not as a Workflow step) is given all of them when its request is
   * smaller, as the pilot gives a job its whole slot.
   */
  runtime?: { cores?: number; ramMb?: number; wholeShare?: boolean };
  /** Receives the payload's standard output when the tool does not redirect it. */
  payloadStdout?: Writable;
  /** Receives the payload's standard error when the tool does not redirect it. */
  payloadStderr?: Writable;
  /** Variables every payload process gets, before `EnvVarRequirement`. Default: none but PATH and HOME. */
  baseEnv?: Record<string, string>;
  /** Aborting kills running payloads and ends the run with `CWL_ABORTED`. */
  signal?: AbortSignal;
  /** Called with the process id of each payload process once it started. */
  onProcessStart?: (pid: number) => void;
  /** Logger for the engine's own events. */
  log?: Logger;
  /** When true, independent Workflow jobs run at the same time within `runtime`. Default: false. */
  parallel?: boolean;
  /** Called with a new snapshot after each change of a Workflow step's or job's state. */
  onProgress?: (snapshot: ProgressSnapshot) => void;
}

/** CWL process status of a finished run. */
export type ProcessStatus = 'success' | 'temporaryFail' | 'permanentFail';

/** Result of {@link runDocument}. */
export interface RunDocumentResult {
  status: ProcessStatus;
  /** The output object; File and Directory values carry absolute `file://` locations and `path`. */
  outputs: Record<string, unknown>;
}

export { runDocument } from './run.js';
export { formatProgressLine } from './workflow/progress.js';
export type { ProgressSnapshot } from './workflow/progress.js';
export { describeReadError } from './load-errors.js';
export { describeYamlError, parseCwlYaml } from './yaml.js';
