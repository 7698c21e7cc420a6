import type { HeartbeatSender } from '../pilot/heartbeat-loop.js';
import type { SandboxUpload, JobId, JobBatchResult } from '../wms/types.js';
import type { StatusSender } from './status-reporter.js';

/** The calls of the central-service client that one job's wrapper makes. */
export interface JobServiceClient extends StatusSender, HeartbeatSender {
  downloadSandbox(jobId: JobId, pfn: string, destination: string): Promise<void>;
  uploadSandbox(jobId: JobId, file: string, upload: SandboxUpload): Promise<string>;
  assignOutputSandbox(jobId: JobId, pfn: string): Promise<void>;
  reschedule(jobIds: JobId[]): Promise<JobBatchResult>;
  /** Sends pilot log lines still buffered, when the client ships logs. */
  flushJobLog?(): Promise<void>;
}
