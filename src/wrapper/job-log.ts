import { createWriteStream } from 'node:fs';
import { createTeeLogger, type Logger } from '../log.js';

/**
 * Creates a job's logger: every line goes to the pilot's log and to the job's own
 * `wrapper.log`, which is shipped in its output sandbox.
 */
export function createJobLogger(
  parent: Logger,
  path: string,
  jobId: number,
): { log: Logger; close: () => Promise<void> } {
  const file = createWriteStream(path, { flags: 'a' });
  const log = createTeeLogger(parent, file, { jobId });
  return {
    log,
    close: () => new Promise<void>((resolve) => file.end(() => resolve())),
  };
}
