import { execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeNode, DEFAULT_WALL_TIME_SECONDS } from '../../src/probe/index.js';
import { captureLogger, makeScratch, removeScratch, writeStub, writeTree } from './fixtures.js';

afterEach(removeScratch);

/** Options that keep the probe short and away from this machine's batch variables. */
async function quickOptions(env: NodeJS.ProcessEnv = { PATH: process.env.PATH }) {
  return { workDir: await makeScratch(), env, benchmarkMs: 50, timeoutMs: 2000 };
}

describe('probeNode on this machine', () => {
  it('gives sane numbers', async () => {
    const started = Date.now();
    const probe = await probeNode({
      workDir: await makeScratch(),
      env: { PATH: process.env.PATH },
    });
    const elapsedMs = Date.now() - started;

    expect(elapsedMs).toBeLessThan(5000);
    expect(probe.slot.cores).toBeGreaterThanOrEqual(1);
    expect(probe.slot.cores).toBeLessThanOrEqual(os.availableParallelism());
    expect(probe.node.cpu['num-cores']).toBe(probe.slot.cores);
    expect(probe.slot['ram-mb']).toBeGreaterThan(100);
    expect(probe.slot['ram-mb']).toBeLessThanOrEqual(os.totalmem() / 2 ** 20);
    expect(probe.slot['scratch-mb']).toBeGreaterThan(0);
    expect(probe.benchmark).toBeGreaterThan(0.5);
    expect(probe.benchmark).toBeLessThan(1000);
    expect(probe.node.system.name).toBe('linux');
    expect(probe.node.system.glibc).toMatch(/^\d+\.\d+$/);
    expect(probe.node.cpu.architecture.name).toBe(
      execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim(),
    );
    expect(probe.batch).toEqual({ system: 'none' });
    expect(probe.timeBudget).toMatchObject({ wallTimeLeftSeconds: null, source: 'none' });
    expect(probe.slot['wall-time']).toBe(DEFAULT_WALL_TIME_SECONDS);
    expect(probe.node['wall-time']).toBeUndefined();
  });

  it('tags the OS from os-release', async () => {
    const osRelease = await readFile('/etc/os-release', 'utf8');
    const id = /^ID="?([^"\n]+)"?$/m.exec(osRelease)?.[1];
    const probe = await probeNode(await quickOptions());
    expect(probe.node.tags.some((tag) => tag.startsWith(`os:${id}`))).toBe(true);
  });

  it('gives the microarchitecture level on x86_64', async () => {
    const probe = await probeNode(await quickOptions());
    if (probe.node.cpu.architecture.name !== 'x86_64') return;
    expect(probe.node.cpu.architecture['microarchitecture-level']).toBeGreaterThanOrEqual(1);
  });
});

describe('probeNode configuration and environment', () => {
  it('prefers configured values', async () => {
    const probe = await probeNode({
      ...(await quickOptions({ PATH: process.env.PATH, SLURM_CPUS_ON_NODE: '8' })),
      cores: 3,
      ramMb: 1500,
      wallTimeSeconds: 7200,
      site: 'CTAO.TEST.ch',
      ce: 'ce.example.org',
      queue: 'long',
      tags: ['extra', 'extra'],
    });
    expect(probe.slot).toMatchObject({ cores: 3, 'ram-mb': 1500, 'wall-time': 7200 });
    expect(probe.node.site).toBe('CTAO.TEST.ch');
    expect(probe.node.grid_ce).toBe('ce.example.org');
    expect(probe.node.queue).toBe('long');
    expect(probe.node['wall-time']).toBe(7200);
    expect(probe.node['cpu-work']).toBe(Math.round(7200 * probe.benchmark));
    expect(probe.node.tags.filter((tag) => tag === 'extra')).toHaveLength(1);
    expect(probe.timeBudget).toMatchObject({ wallTimeLeftSeconds: 7200, source: 'configuration' });
  });

  it('reads Slurm cores and memory per node', async () => {
    const env = { PATH: process.env.PATH, SLURM_CPUS_ON_NODE: '6', SLURM_MEM_PER_NODE: '12000' };
    const probe = await probeNode(await quickOptions(env));
    expect(probe.slot.cores).toBe(6);
    expect(probe.slot['ram-mb']).toBe(12000);
  });

  it('multiplies Slurm memory per CPU by cores', async () => {
    const env = { PATH: process.env.PATH, SLURM_CPUS_ON_NODE: '4', SLURM_MEM_PER_CPU: '2500' };
    const probe = await probeNode(await quickOptions(env));
    expect(probe.slot['ram-mb']).toBe(10_000);
  });

  it('ignores Slurm memory of zero', async () => {
    const env = { PATH: process.env.PATH, SLURM_MEM_PER_NODE: '0' };
    const probe = await probeNode({ ...(await quickOptions(env)), fsRoot: await makeScratch() });
    expect(probe.slot['ram-mb']).toBe(Math.floor(os.totalmem() / 2 ** 20));
  });

  it('reads time left from squeue', async () => {
    const bin = join(await makeScratch(), 'bin');
    const argsFile = join(bin, 'args');
    await writeStub(bin, 'squeue', `echo "$@" > ${argsFile}\necho 1-02:03:04`);
    const env = { PATH: `${bin}:${process.env.PATH}`, SLURM_JOB_ID: '4242' };
    const probe = await probeNode(await quickOptions(env));

    expect(await readFile(argsFile, 'utf8')).toBe('-h -j 4242 -o %L\n');
    expect(probe.batch).toEqual({ system: 'slurm', jobId: '4242' });
    expect(probe.timeBudget).toMatchObject({ wallTimeLeftSeconds: 93_784, source: 'slurm squeue' });
    expect(probe.slot['wall-time']).toBe(93_784);
    expect(probe.node['cpu-work']).toBe(Math.round(93_784 * probe.benchmark));
  });

  it('falls back when squeue fails', async () => {
    const bin = join(await makeScratch(), 'bin');
    await writeStub(bin, 'squeue', 'echo "slurm_load_jobs error" >&2\nexit 1');
    const { log, lines } = captureLogger();
    const env = { PATH: `${bin}:${process.env.PATH}`, SLURM_JOB_ID: '7' };
    const probe = await probeNode({ ...(await quickOptions(env)), log });

    expect(probe.timeBudget.wallTimeLeftSeconds).toBeNull();
    expect(probe.slot['wall-time']).toBe(DEFAULT_WALL_TIME_SECONDS);
    expect(lines.some((line) => line.fact === 'time budget' && line.level === 40)).toBe(true);
  });

  it('reads an HTCondor job ad', async () => {
    const scratch = await makeScratch();
    const ad = join(scratch, '.job.ad');
    await writeFile(ad, 'ClusterId = 812\nProcId = 3\nOwner = "pilot"\n');
    const probe = await probeNode(
      await quickOptions({ PATH: process.env.PATH, _CONDOR_JOB_AD: ad }),
    );
    expect(probe.batch).toEqual({ system: 'htcondor', jobId: '812.3' });
  });

  it('detects PBS and LSF jobs', async () => {
    const pbs = await probeNode(
      await quickOptions({ PATH: process.env.PATH, PBS_JOBID: '99.server' }),
    );
    const lsf = await probeNode(await quickOptions({ PATH: process.env.PATH, LSB_JOBID: '1234' }));
    expect(pbs.batch).toEqual({ system: 'pbs', jobId: '99.server' });
    expect(lsf.batch).toEqual({ system: 'lsf', jobId: '1234' });
  });
});

describe('probeNode cgroup limits', () => {
  it('reads a cgroup v2 CPU quota and memory limit', async () => {
    const fsRoot = await makeScratch();
    await writeTree(fsRoot, {
      'proc/self/cgroup': '0::/batch/job_1\n',
      'sys/fs/cgroup/batch/job_1/cpu.max': '50000 100000\n',
      'sys/fs/cgroup/batch/job_1/memory.max': 'max\n',
      'sys/fs/cgroup/batch/memory.max': `${3 * 1024 ** 3}\n`,
    });
    const probe = await probeNode({ ...(await quickOptions()), fsRoot });
    expect(probe.slot.cores).toBe(1);
    expect(probe.slot['ram-mb']).toBe(Math.min(3072, Math.floor(os.totalmem() / 2 ** 20)));
  });

  it('reads cgroup v1 limits of the hybrid layout', async () => {
    const fsRoot = await makeScratch();
    await writeTree(fsRoot, {
      'proc/self/cgroup': '4:memory:/slot1\n2:cpu,cpuacct:/slot1\n0::/\n',
      'sys/fs/cgroup/memory/slot1/memory.limit_in_bytes': `${2 * 1024 ** 3}\n`,
      'sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712\n',
      'sys/fs/cgroup/cpu,cpuacct/slot1/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu,cpuacct/slot1/cpu.cfs_period_us': '100000\n',
    });
    const probe = await probeNode({ ...(await quickOptions()), fsRoot });
    expect(probe.slot['ram-mb']).toBe(Math.min(2048, Math.floor(os.totalmem() / 2 ** 20)));
    expect(probe.slot.cores).toBe(os.availableParallelism());
  });

  it('reads user namespace settings', async () => {
    const enabled = await makeScratch();
    await writeTree(enabled, { 'proc/sys/user/max_user_namespaces': '15000\n' });
    const disabled = await makeScratch();
    await writeTree(disabled, { 'proc/sys/user/max_user_namespaces': '0\n' });

    const on = await probeNode({ ...(await quickOptions()), fsRoot: enabled });
    const off = await probeNode({ ...(await quickOptions()), fsRoot: disabled });
    expect(on.node.system['user-namespaces']).toBe(true);
    expect(off.node.system['user-namespaces']).toBe(false);
  });

  it('falls back when /proc is unreadable', async () => {
    const { log, lines } = captureLogger();
    const probe = await probeNode({ ...(await quickOptions()), fsRoot: await makeScratch(), log });
    expect(probe.node.cpu.architecture['microarchitecture-level']).toBeUndefined();
    expect(probe.node.system['user-namespaces']).toBe(false);
    if (probe.node.cpu.architecture.name === 'x86_64') {
      expect(lines.some((line) => line.fact === 'microarchitecture level')).toBe(true);
    }
  });
});

describe('probeNode tags and GPUs', () => {
  it('tags mounted CVMFS repositories', async () => {
    const fsRoot = await makeScratch();
    for (const name of ['ctao.dpps.test', 'sw.cta-observatory.org', '.hidden', 'lost+found']) {
      await mkdir(join(fsRoot, 'cvmfs', name), { recursive: true });
    }
    const probe = await probeNode({ ...(await quickOptions()), fsRoot });
    expect(probe.node.tags.filter((tag) => tag.startsWith('cvmfs:'))).toEqual([
      'cvmfs:ctao.dpps.test',
      'cvmfs:sw.cta-observatory.org',
    ]);
  });

  it('does not hang on a stuck CVMFS', async () => {
    const bin = join(await makeScratch(), 'bin');
    // Listing /cvmfs on a stuck mount blocks, and this ls blocks the same way.
    await writeStub(bin, 'ls', 'exec sleep 60');
    const { log, lines } = captureLogger();
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const started = Date.now();
    const probe = await probeNode({ ...(await quickOptions(env)), timeoutMs: 300, log });
    const elapsedMs = Date.now() - started;

    expect(elapsedMs).toBeLessThan(3000);
    expect(probe.node.tags.some((tag) => tag.startsWith('cvmfs:'))).toBe(false);
    const warning = lines.find((line) => line.fact === 'cvmfs');
    expect(warning?.level).toBe(40);
    expect(warning?.reason).toContain('timed out');
  });

  it('counts GPUs from nvidia-smi', async () => {
    const bin = join(await makeScratch(), 'bin');
    await writeStub(
      bin,
      'nvidia-smi',
      'echo "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-1)"\necho "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-2)"',
    );
    const probe = await probeNode(await quickOptions({ PATH: `${bin}:${process.env.PATH}` }));
    expect(probe.node.gpu.count).toBe(2);
  });

  it('gives zero GPUs when nvidia-smi hangs', async () => {
    const bin = join(await makeScratch(), 'bin');
    await writeStub(bin, 'nvidia-smi', 'exec sleep 60');
    const { log, lines } = captureLogger();
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const probe = await probeNode({ ...(await quickOptions(env)), timeoutMs: 300, log });
    expect(probe.node.gpu.count).toBe(0);
    expect(lines.some((line) => line.fact === 'gpu')).toBe(true);
  });

  it('tags container runtimes on PATH', async () => {
    const bin = join(await makeScratch(), 'bin');
    await writeStub(bin, 'apptainer', 'exit 0');
    await writeStub(bin, 'bwrap', 'exit 0');
    const probe = await probeNode(await quickOptions({ PATH: `${bin}:${process.env.PATH}` }));
    expect(probe.node.tags).toContain('apptainer');
    expect(probe.node.tags).toContain('bwrap');
  });
});

describe('probeNode fallbacks', () => {
  it('gives zero scratch for a missing work folder', async () => {
    const { log, lines } = captureLogger();
    const workDir = join(await makeScratch(), 'missing');
    const probe = await probeNode({ ...(await quickOptions()), workDir, log });
    expect(probe.slot['scratch-mb']).toBe(0);
    expect(lines.some((line) => line.fact === 'scratch' && line.level === 40)).toBe(true);
  });
});
