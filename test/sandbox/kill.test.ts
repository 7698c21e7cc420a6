import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessTreeKiller, detectCgroupSupport } from '../../src/sandbox/index.js';
import {
  findMarkedProcesses,
  isAlive,
  killQuietly,
  startPayload,
  waitForMarkedProcesses,
} from './helpers.js';

const cgroupSupport = await detectCgroupSupport();
const modes = [
  { name: 'marker scan', useCgroup: false },
  ...(cgroupSupport.supported ? [{ name: 'cgroup', useCgroup: true }] : []),
];

const killers: ProcessTreeKiller[] = [];

afterEach(async () => {
  for (const killer of killers.splice(0)) {
    killQuietly(await findMarkedProcesses(killer.marker));
    await killer.dispose();
  }
});

async function makeKiller(useCgroup: boolean, graceMs = 2000): Promise<ProcessTreeKiller> {
  const killer = new ProcessTreeKiller({ jobId: 7, graceMs, killWaitMs: 2000, useCgroup });
  killers.push(killer);
  await killer.prepare();
  return killer;
}

describe.each(modes)('ProcessTreeKiller with $name', ({ useCgroup }) => {
  it('kills a background sleeper', async () => {
    const killer = await makeKiller(useCgroup);
    const payload = await startPayload('sleep 300 & echo started', killer.environment);
    await killer.addProcess(payload.pid);
    const [sleeper] = await waitForMarkedProcesses(killer.marker, 1);

    const listed = (await killer.listJobProcesses()).map((info) => info.pid);
    expect(listed).toContain(sleeper);

    const result = await killer.kill();
    expect(result.survivors).toEqual([]);
    expect(result.terminated).toContain(sleeper);
    expect(await findMarkedProcesses(killer.marker)).toEqual([]);
  });

  it('kills a child that left with setsid', async () => {
    const killer = await makeKiller(useCgroup);
    const payload = await startPayload(
      "setsid sh -c 'sleep 300' & sleep 300 & echo started",
      killer.environment,
    );
    await killer.addProcess(payload.pid);
    // sh, the setsid'd sh (or sleep after exec) and two sleepers.
    const marked = await waitForMarkedProcesses(killer.marker, 3);

    const listed = (await killer.listJobProcesses()).map((info) => info.pid);
    for (const pid of marked) expect(listed).toContain(pid);

    const result = await killer.kill();
    expect(result.survivors).toEqual([]);
    expect(await findMarkedProcesses(killer.marker)).toEqual([]);
  });

  it('kills a double-forked daemon', async () => {
    const killer = await makeKiller(useCgroup);
    // The inner sh exits at once, so the sleeper is reparented to init in its own session.
    const payload = await startPayload(
      "sh -c 'setsid sleep 300 &' ; echo started; sleep 300",
      killer.environment,
    );
    await killer.addProcess(payload.pid);
    const marked = await waitForMarkedProcesses(killer.marker, 3);

    const listed = await killer.listJobProcesses();
    const daemon = listed.find((info) => info.sid !== payload.pid && info.sid === info.pid);
    expect(daemon).toBeDefined();
    expect(daemon?.rssBytes).toBeGreaterThan(0);
    expect(listed.map((info) => info.pid).sort()).toEqual(marked.sort());

    const result = await killer.kill();
    expect(result.survivors).toEqual([]);
    expect(await findMarkedProcesses(killer.marker)).toEqual([]);
  });

  it('sends SIGKILL to a process that ignores SIGTERM', async () => {
    const killer = await makeKiller(useCgroup, 500);
    const payload = await startPayload('trap "" TERM; echo started; sleep 300', killer.environment);
    await killer.addProcess(payload.pid);
    await waitForMarkedProcesses(killer.marker, 2);

    const started = Date.now();
    const result = await killer.kill();
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    // With a cgroup, cgroup.kill may end the process before the SIGKILL loop reaches it.
    if (!useCgroup) expect(result.killed).toContain(payload.pid);
    expect(result.terminated).toContain(payload.pid);
    expect(result.survivors).toEqual([]);
    expect(await findMarkedProcesses(killer.marker)).toEqual([]);
  });

  it('returns early when SIGTERM suffices', async () => {
    const killer = await makeKiller(useCgroup, 10_000);
    const payload = await startPayload('sleep 300 & echo started; wait', killer.environment);
    await killer.addProcess(payload.pid);
    await waitForMarkedProcesses(killer.marker, 2);

    const started = Date.now();
    const result = await killer.kill();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.killed).toEqual([]);
    expect(result.survivors).toEqual([]);
  });
});

describe.runIf(cgroupSupport.supported)('ProcessTreeKiller cgroup', () => {
  it('moves payloads into the job cgroup', async () => {
    const killer = await makeKiller(true);
    const dir = killer.cgroupDir as string;
    expect(dir).toBeDefined();
    expect(existsSync(dir)).toBe(true);

    const payload = await startPayload('sleep 300 & echo started; wait', killer.environment);
    await killer.addProcess(payload.pid);
    await waitForMarkedProcesses(killer.marker, 2);
    // Processes forked before the move stay outside the cgroup, but the marker still finds them.
    expect(await killer.cgroupCpuSeconds()).toBeGreaterThanOrEqual(0);

    const result = await killer.kill();
    expect(result.survivors).toEqual([]);
    await killer.dispose();
    expect(existsSync(dir)).toBe(false);
  });

  it('kills an unmarked process in the cgroup', async () => {
    const killer = await makeKiller(true, 500);
    const dir = killer.cgroupDir as string;
    // No marker, no known parent, a new session: only the cgroup ties this sleeper to the job.
    await startPayload(`echo $$ > ${dir}/cgroup.procs; setsid sleep 300 & echo started`, {});
    const [sleeper] = (await readFile(`${dir}/cgroup.procs`, 'utf8'))
      .trim()
      .split('\n')
      .map(Number);
    expect(sleeper).toBeGreaterThan(0);
    expect((await killer.listJobProcesses()).map((info) => info.pid)).toContain(sleeper);

    const result = await killer.kill();
    expect(result.survivors).toEqual([]);
    expect(await isAlive(sleeper as number)).toBe(false);
  });
});
