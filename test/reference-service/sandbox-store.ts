import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';

/** The storage element and bucket of every sandbox reference. */
export const SANDBOX_SE = 'SandboxSE';
export const SANDBOX_BUCKET = 'sandboxes';

/** Largest sandbox the service accepts: DiracX's limit of 100 MiB. */
export const MAX_SANDBOX_BYTES = 100 * 1024 * 1024;

/** Lifetime of presigned URLs, in seconds, as DiracX sets it. */
export const PRESIGNED_URL_SECONDS = 300;

const PFN_PATTERN =
  /^SB:SandboxSE\|\/S3\/sandboxes\/([^/|]+\/[^/|]+\/[^/|]+\/sha256:[0-9a-f]{64}\.(tar\.zst|tar\.bz2))$/;

/** Owner of a sandbox: the three path components between the bucket and the file name. */
export interface SandboxOwner {
  vo: string;
  group: string;
  owner: string;
}

/** Returns the object key of a sandbox reference, or undefined when it is malformed. */
export function keyOfPfn(pfn: string): string | undefined {
  return PFN_PATTERN.exec(pfn)?.[1];
}

/** Builds the sandbox reference of archive bytes with the given digest and format. */
export function pfnOf(owner: SandboxOwner, sha256Hex: string, format: string): string {
  const key = `${owner.vo}/${owner.group}/${owner.owner}/sha256:${sha256Hex}.${format}`;
  return `SB:${SANDBOX_SE}|/S3/${SANDBOX_BUCKET}/${key}`;
}

/** Conditions signed into a presigned POST, in the service's own encoding of an S3 policy. */
export interface UploadPolicy {
  expiration: string;
  key: string;
  size: number;
  checksumBase64: string;
}

/**
 * The object store behind the sandbox routes: archives by object key, presigned URLs signed
 * with a key made at start-up, and input sandboxes packed from folders.
 */
export class SandboxStore {
  private readonly objects = new Map<string, Buffer>();
  private readonly packCache = new Map<string, Promise<Buffer>>();
  private readonly signingKey = randomBytes(32);

  /** Returns the bytes stored under an object key, or undefined. */
  get(key: string): Buffer | undefined {
    return this.objects.get(key);
  }

  /** Stores bytes under an object key. */
  put(key: string, bytes: Buffer): void {
    this.objects.set(key, bytes);
  }

  /** True when bytes are stored under this key. */
  has(key: string): boolean {
    return this.objects.has(key);
  }

  /**
   * Packs files of a folder into a tar.bz2 with the system `tar` and `bzip2`, stores it and
   * returns its reference. Archives are cached by folder and file list, so many jobs can
   * share one large input sandbox without packing it again.
   */
  async packInputSandbox(dir: string, files: string[] | undefined, owner: SandboxOwner) {
    const root = resolve(dir);
    const members = files ?? (await readdir(root)).sort();
    if (members.length === 0) {
      throw new Error(`Input sandbox folder ${root} is empty; add files or omit inputSandboxDir`);
    }
    const cacheKey = JSON.stringify([root, members]);
    let packing = this.packCache.get(cacheKey);
    if (!packing) {
      packing = packTarBz2(root, members);
      this.packCache.set(cacheKey, packing);
      packing.catch(() => this.packCache.delete(cacheKey));
    }
    const bytes = await packing;
    const pfn = pfnOf(owner, createHash('sha256').update(bytes).digest('hex'), 'tar.bz2');
    this.put(keyOfPfn(pfn) as string, bytes);
    return pfn;
  }

  /** Signs a string with the store's key. */
  sign(text: string): string {
    return createHmac('sha256', this.signingKey).update(text).digest('hex');
  }

  /** Encodes and signs an upload policy, as the `policy` and `x-amz-signature` fields. */
  signPolicy(policy: UploadPolicy): { policy: string; signature: string } {
    const encoded = Buffer.from(JSON.stringify(policy)).toString('base64');
    return { policy: encoded, signature: this.sign(encoded) };
  }
}

/** Runs `tar -c` piped into `bzip2 -c` and collects the compressed archive. */
async function packTarBz2(root: string, members: string[]): Promise<Buffer> {
  const tar = spawn('tar', ['-c', '-f', '-', '-C', root, '--', ...members], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const bzip2 = spawn('bzip2', ['-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  tar.stdout.pipe(bzip2.stdin);

  const chunks: Buffer[] = [];
  let stderr = '';
  bzip2.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  tar.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  bzip2.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const [tarCode, bzip2Code] = await Promise.all([exitCodeOf(tar), exitCodeOf(bzip2)]);
  if (tarCode !== 0 || bzip2Code !== 0) {
    throw new Error(`Packing ${root} failed (tar ${tarCode}, bzip2 ${bzip2Code}): ${stderr}`);
  }
  return Buffer.concat(chunks);
}

function exitCodeOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code));
  });
}
