import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PilotError } from '../errors.js';

/** An input file the job names that cannot be found or fetched. */
export class InputDataError extends PilotError {}

/** Folders a job's inputs are resolved into. */
export interface InputFolders {
  /** Root of the unpacked input sandboxes; relative locations resolve here. */
  sandboxRoot: string;
  /** Folder for inputs downloaded from URLs or resolved from grid file names. */
  downloadDir: string;
}

interface ReplicaEntry {
  replicas?: { url?: string; se?: string }[];
  size_bytes?: number;
  checksum?: { adler32?: string };
}

/**
 * Rewrites every File and Directory `location` of a job's input object into an absolute
 * path on this node. Sandbox members and relative paths point into the sandbox root,
 * `http(s)://` locations are downloaded, and `LFN:` names are resolved through the
 * sandbox's `replica_map.json`. Throws InputDataError naming the first input that fails.
 */
export async function resolveJobInputs(
  params: Record<string, unknown>,
  folders: InputFolders,
): Promise<Record<string, unknown>> {
  const resolver = new LocationResolver(folders);
  return (await resolver.resolveValue(params)) as Record<string, unknown>;
}

class LocationResolver {
  private replicaMap: Record<string, ReplicaEntry> | undefined;
  private downloads = 0;

  constructor(private readonly folders: InputFolders) {}

  async resolveValue(value: unknown): Promise<unknown> {
    if (Array.isArray(value)) {
      return Promise.all(value.map((item) => this.resolveValue(item)));
    }
    if (value === null || typeof value !== 'object') return value;

    const object = value as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object)) {
      copy[key] = await this.resolveValue(item);
    }
    const isFileLike = object.class === 'File' || object.class === 'Directory';
    if (isFileLike && typeof object.location === 'string') {
      copy.location = await this.resolveLocation(object.location);
    }
    if (isFileLike && typeof object.path === 'string' && object.location === undefined) {
      copy.path = this.insideSandbox(object.path);
    }
    return copy;
  }

  private async resolveLocation(location: string): Promise<string> {
    if (location.startsWith('SB:')) {
      const hash = location.indexOf('#');
      if (hash < 0) {
        throw new InputDataError(
          'INPUT_BAD_SANDBOX_LOCATION',
          `input location ${location} names a sandbox but no member; add #<path inside the archive>`,
        );
      }
      return this.insideSandbox(location.slice(hash + 1));
    }
    if (/^https?:\/\//.test(location)) return this.download(location);
    if (location.startsWith('LFN:')) return this.resolveLfn(location.slice(4));
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(location)) {
      throw new InputDataError(
        'INPUT_UNSUPPORTED_SCHEME',
        `input location ${location} uses a scheme the pilot cannot fetch; use a sandbox member, a relative path, https:// or LFN:`,
      );
    }
    return this.insideSandbox(location);
  }

  private insideSandbox(path: string): string {
    const root = this.folders.sandboxRoot;
    const target = resolve(root, path);
    const rel = relative(root, target);
    if (isAbsolute(path) || rel.startsWith('..')) {
      throw new InputDataError(
        'INPUT_OUTSIDE_SANDBOX',
        `input location ${path} points outside the input sandbox; use a path relative to the sandbox root`,
      );
    }
    return target;
  }

  private async download(url: string): Promise<string> {
    await mkdir(this.folders.downloadDir, { recursive: true });
    const name = decodeURIComponent(new URL(url).pathname.split('/').pop() || 'download');
    const target = join(this.folders.downloadDir, `${++this.downloads}-${name}`);
    let response: Response;
    try {
      response = await fetch(url, { redirect: 'follow' });
    } catch (error) {
      throw new InputDataError(
        'INPUT_DOWNLOAD_FAILED',
        `cannot download input ${url}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (!response.ok || !response.body) {
      throw new InputDataError(
        'INPUT_DOWNLOAD_FAILED',
        `cannot download input ${url}: HTTP ${response.status}`,
      );
    }
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(target));
    return target;
  }

  // NOTE: the replica map's size_bytes and adler32 checksum are not checked against the
  // fetched replica yet.
  private async resolveLfn(lfn: string): Promise<string> {
    const map = await this.loadReplicaMap();
    const entry = map[lfn] ?? map[`LFN:${lfn}`];
    const urls = (entry?.replicas ?? []).map((replica) => replica.url).filter(Boolean);
    for (const url of urls as string[]) {
      if (url.startsWith('file://')) return new URL(url).pathname;
      if (/^https?:\/\//.test(url)) {
        try {
          return await this.download(url);
        } catch {
          continue;
        }
      }
    }
    throw new InputDataError(
      'INPUT_DATA_NOT_AVAILABLE',
      `no reachable replica for ${lfn} in replica_map.json of the input sandbox`,
    );
  }

  private async loadReplicaMap(): Promise<Record<string, ReplicaEntry>> {
    if (this.replicaMap) return this.replicaMap;
    try {
      const text = await readFile(join(this.folders.sandboxRoot, 'replica_map.json'), 'utf8');
      this.replicaMap = JSON.parse(text) as Record<string, ReplicaEntry>;
    } catch {
      this.replicaMap = {};
    }
    return this.replicaMap;
  }
}
