import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Folders of one job, all under its own job folder. */
export interface JobFolders {
  root: string;
  /** Unpacked input sandboxes; the CWL document is written here too. */
  sandbox: string;
  /** Inputs fetched from URLs or resolved from grid file names. */
  downloads: string;
  /** Sandbox archives as downloaded or packed. */
  archives: string;
  /** Root of the output sandbox: `outputs.json`, `outputs/` and `logs/`. */
  result: string;
  outputs: string;
  logs: string;
  tmp: string;
}

/** Creates a fresh folder for a job under `jobsDir`, with its subfolders. */
export async function makeJobFolders(jobsDir: string, jobId: number): Promise<JobFolders> {
  const root = join(jobsDir, `${jobId}-${Date.now().toString(36)}`);
  const result = join(root, 'result');
  const folders: JobFolders = {
    root,
    sandbox: join(root, 'sandbox'),
    downloads: join(root, 'downloads'),
    archives: join(root, 'archives'),
    result,
    outputs: join(result, 'outputs'),
    logs: join(result, 'logs'),
    tmp: join(root, 'tmp'),
  };
  for (const folder of Object.values(folders)) await mkdir(folder, { recursive: true });
  return folders;
}
