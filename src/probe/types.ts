import type { Logger } from '../log.js';
import type { BatchInfo, TimeBudget } from './time-budget.js';

/** Options of {@link probeNode}. Values given here win over probed ones. */
export interface ProbeOptions {
  /** Folder for job folders. Its free space is the slot's scratch space. */
  workDir: string;
  /** Site name for the match document. Default `Unknown`. */
  site?: string;
  /** Computing element host name. */
  ce?: string;
  /** Batch queue name. */
  queue?: string;
  /** Cores to use. Default: probed. */
  cores?: number;
  /** Memory to use, in MiB. Default: probed. */
  ramMb?: number;
  /** Wall time left, in seconds. Default: from the batch system. */
  wallTimeSeconds?: number;
  /** Extra tags, added to the probed ones. */
  tags?: string[];
  /** Time limit of each external command and folder listing, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Environment to read batch variables and PATH from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Logger for facts that fell back to a default. Default: silent. */
  log?: Logger;
  /** Folder read in place of `/` for /proc, /sys, /etc and /cvmfs, for tests. Default `/`. */
  fsRoot?: string;
  /** CPU time of the benchmark, in milliseconds. Default 500. */
  benchmarkMs?: number;
}

/** The node part of the match document sent to the central service. */
export type ProbedNode = {
  site: string;
  grid_ce?: string;
  queue?: string;
  system: { name: string; glibc?: string; 'user-namespaces': boolean };
  /** Wall time of the allocation in seconds, absent when unknown. */
  'wall-time'?: number;
  /** `wall-time` times the benchmark, in DB12-like units times seconds. */
  'cpu-work'?: number;
  cpu: {
    'num-nodes': number;
    'num-cores': number;
    'ram-mb': number;
    architecture: { name: string; 'microarchitecture-level'?: number };
  };
  gpu: { count: number };
  tags: string[];
};

/** Resources free in the allocation when the pilot starts. */
export type ProbedSlot = {
  cores: number;
  'ram-mb': number;
  /** Time left in seconds, or a default when neither configuration nor batch system gives it. */
  'wall-time': number;
  /** Free space of the work folder in MiB. */
  'scratch-mb': number;
};

/** Result of {@link probeNode}. */
export interface NodeProbe {
  node: ProbedNode;
  slot: ProbedSlot;
  /** CPU speed estimate in DB12-like units. */
  benchmark: number;
  batch: BatchInfo;
  timeBudget: TimeBudget;
}
