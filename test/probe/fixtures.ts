import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/log.js';

const scratchFolders: string[] = [];

/** Creates a scratch folder, deleted by the next {@link removeScratch}. */
export async function makeScratch(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'ctao-probe-'));
  scratchFolders.push(folder);
  return folder;
}

/** Deletes every scratch folder made so far. */
export async function removeScratch(): Promise<void> {
  for (const folder of scratchFolders.splice(0)) {
    await rm(folder, { recursive: true, force: true });
  }
}

/** Writes `files` (path relative to `root` to content) under `root`. */
export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

/** Writes an executable shell script `name` into `binDir`. */
export async function writeStub(binDir: string, name: string, script: string): Promise<void> {
  await mkdir(binDir, { recursive: true });
  const path = join(binDir, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
}

/** Creates a logger that parses each JSON line it writes into `lines`. */
export function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      callback();
    },
  });
  return { log: createLogger({ level: 'debug', destination }), lines };
}
