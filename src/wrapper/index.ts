export { runJob } from './job-runner.js';
export type { JobOutcome, JobRunContext } from './job-runner.js';
export type { JobServiceClient } from './service-client.js';
