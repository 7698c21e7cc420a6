export { JOB_MARKER_VARIABLE, ProcessTreeKiller } from './kill.js';
export type { KillResult, ProcessTreeKillerOptions } from './kill.js';
export { JobCgroup, detectCgroupSupport } from './cgroup.js';
export type { CgroupSupport } from './cgroup.js';
export { readProcessIo, selectDescendants } from './proc.js';
export type { ProcessInfo, ProcessIo } from './proc.js';
