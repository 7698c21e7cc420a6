import type { OutboxClient } from '../journal/index.js';
import type { HeartbeatSender } from '../pilot/heartbeat-loop.js';
import type { JobId } from '../wms/types.js';

/** The calls of the central-service client that one job's wrapper makes. */
export interface JobServiceClient extends OutboxClient, HeartbeatSender {
  downloadSandbox(jobId: JobId, pfn: string, destination: string): Promise<void>;
  /** Sends pilot log lines still buffered, when the client ships logs. */
  flushJobLog?(): Promise<void>;
}
