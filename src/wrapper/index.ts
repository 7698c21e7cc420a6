export { runJob, startJob } from './job-runner.js';
export type { JobOutcome, JobRunContext, RunningJob } from './job-runner.js';
export type { JobServiceClient } from './service-client.js';
export type { GuardSettings } from './payload-guard.js';
