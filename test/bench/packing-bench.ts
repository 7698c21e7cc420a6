/**
 * Output sandbox packing and upload: packSandbox on a generated folder of logs and binary
 * traces, next to the system's `tar` with zstd and with bzip2, and the upload of the
 * packSandbox archive to the reference service through WmsClient.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  packSandbox,
  preferredFormat,
  type Bzip2Codec,
  type PackResult,
} from '../../src/archive/index.js';
import { silentLogger } from '../../src/log.js';
import { WmsClient, type SandboxUpload } from '../../src/wms/index.js';
import { PILOT_VERSION } from '../../src/version.js';
import { startReferenceService } from '../reference-service/index.js';
import { writeSandboxCorpus } from './sandbox-corpus.js';
import { summarize, type Summary } from './stats.js';

/** Sizes of the packing section's runs. */
export interface PackingBenchOptions {
  /** Bytes of files to generate and pack. */
  corpusBytes: number;
  /** Timed runs of each packer and of the upload. The page reports their median. */
  rounds: number;
}

/** One packer over the whole folder. */
export interface PackerResult {
  label: string;
  /** Seconds per run. */
  seconds: Summary;
  archiveBytes: number;
}

/** Why a packer has no row, such as a program missing from PATH. */
export interface SkippedPacker {
  label: string;
  reason: string;
}

export interface PackingBenchResult {
  inputBytes: number;
  files: number;
  packers: PackerResult[];
  skipped: SkippedPacker[];
  /** Seconds per upload of the default packSandbox archive. */
  uploadSeconds: Summary;
  uploadBytes: number;
}

interface Packer {
  label: string;
  /** Returns why the packer cannot run here, or undefined when it can. */
  missing: () => string | undefined;
  /** Writes the archive of `sourceDir` to `outFile`. */
  pack: (sourceDir: string, outFile: string) => Promise<void>;
}

/**
 * Generates the folder, times every packer on it `rounds` times, runs interleaved, and times
 * the upload of the default packSandbox archive to a fresh reference service per round.
 */
export async function benchPacking(options: PackingBenchOptions): Promise<PackingBenchResult> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'ctao-bench-packing-'));
  try {
    const sourceDir = path.join(workDir, 'outputs');
    const inputBytes = writeSandboxCorpus(sourceDir, options.corpusBytes);
    const packers = listPackers();
    const skipped = packers.flatMap((packer) => {
      const reason = packer.missing();
      return reason === undefined ? [] : [{ label: packer.label, reason }];
    });
    const usable = packers.filter((packer) => packer.missing() === undefined);
    const times = usable.map(() => [] as number[]);
    for (let round = 0; round < options.rounds; round += 1) {
      for (const [index, packer] of usable.entries()) {
        const outFile = path.join(workDir, `archive-${index}`);
        rmSync(outFile, { force: true });
        const started = performance.now();
        await packer.pack(sourceDir, outFile);
        times[index]!.push((performance.now() - started) / 1000);
      }
    }
    const results = usable.map((packer, index) => ({
      label: packer.label,
      seconds: summarize(times[index]!),
      archiveBytes: statSync(path.join(workDir, `archive-${index}`)).size,
    }));

    const archive = await packSandbox({ sourceDir, outFile: path.join(workDir, 'upload') });
    const uploadSeconds = await timeUploads(archive, options.rounds);
    return {
      inputBytes,
      files: countFiles(sourceDir),
      packers: results,
      skipped,
      uploadSeconds: summarize(uploadSeconds),
      uploadBytes: archive.size,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function listPackers(): Packer[] {
  const format = preferredFormat();
  const packWith = (codec: Bzip2Codec) => async (sourceDir: string, outFile: string) => {
    await packSandbox({ sourceDir, outFile, bzip2Codec: codec });
  };
  const packers: Packer[] = [
    {
      label: `packSandbox, ${format} (default on Node ${process.versions.node})`,
      missing: () => undefined,
      pack: packWith('auto'),
    },
  ];
  if (format === 'tar.bz2') {
    // The default codec is the bzip2 program when it is on PATH, so the pure-JS encoder that
    // nodes without it use gets its own row.
    packers.push({
      label: 'packSandbox, tar.bz2, pure-JS bzip2 encoder',
      missing: () => undefined,
      pack: packWith('javascript'),
    });
  }
  packers.push(tarPacker('zstd', []), tarPacker('bzip2', ['-9']));
  return packers;
}

/** `tar -cf OUT -I "PROGRAM ARGS" -C DIR .` with the system's GNU tar and compressor. */
function tarPacker(program: string, programArgs: string[]): Packer {
  const compressor = [program, ...programArgs].join(' ');
  return {
    label: `\`tar\` with \`${compressor}\``,
    missing: () => {
      for (const needed of ['tar', program]) {
        if (findOnPath(needed) === undefined) return `\`${needed}\` is not on PATH`;
      }
      return undefined;
    },
    pack: async (sourceDir, outFile) => {
      const result = spawnSync('tar', ['-cf', outFile, '-I', compressor, '-C', sourceDir, '.'], {
        stdio: 'pipe',
      });
      if (result.status !== 0) {
        throw new Error(`tar with ${compressor} exited with ${result.status}: ${result.stderr}`);
      }
    },
  };
}

function findOnPath(program: string): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(folder, program);
    if (folder !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function countFiles(folder: string): number {
  const result = spawnSync('find', [folder, '-type', 'f'], { encoding: 'utf8' });
  return result.stdout.split('\n').filter((line) => line !== '').length;
}

/**
 * Uploads `archive` once per round, each time to a fresh service, because the service skips
 * the transfer of bytes it already has. Only the uploadSandbox call is timed.
 */
async function timeUploads(archive: PackResult, rounds: number): Promise<number[]> {
  const { format } = archive;
  if (format !== 'tar.zst' && format !== 'tar.bz2') {
    throw new Error(
      `packSandbox wrote ${format}, but uploadSandbox accepts only tar.zst and tar.bz2`,
    );
  }
  const upload: SandboxUpload = { sha256: archive.sha256, size: archive.size, format };
  const seconds: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const service = await startReferenceService();
    const secret = `bench-secret-${round}`;
    service.addPilotSecret(null, secret);
    const client = new WmsClient({
      baseUrl: service.url,
      pilotStamp: `bench${round}`,
      clientVersion: PILOT_VERSION,
      credentials: { kind: 'pilot-secret', secret },
      log: silentLogger,
    });
    try {
      const jobId = await service.submitJob({ workflow: 'cwlVersion: v1.2\nclass: Workflow\n' });
      await client.login({ vo: 'ctao', grid_type: 'Local', grid_site: 'Bench', status: 'Running' });
      const matched = await client.match({
        node: { site: 'Bench', tags: [], gpu: { count: 0 } },
        slot: { cores: 1, 'ram-mb': 1000, 'wall-time': 3600 },
        benchmark: 1,
      });
      if (matched.kind !== 'job' || matched.job.job_id !== jobId) {
        throw new Error(`the bench client matched ${matched.kind}, expected job ${jobId}`);
      }
      const started = performance.now();
      await client.uploadSandbox(jobId, archive.path, upload);
      seconds.push((performance.now() - started) / 1000);
    } finally {
      await client.close();
      await service.close();
    }
  }
  return seconds;
}
