/**
 * The pilot and packing sections of `npm run bench` on tiny inputs, the log reading behind the
 * overhead figures, and the page merge of a partial run. Needs `npm run build` first. No
 * figure is checked against a limit: only that each section runs and writes its rows.
 */
import { describe, expect, it } from 'vitest';
import { readJobTimelines } from './pilot-log.js';
import { runPilotSections } from './pilot-sections.js';
import { mergePage, parseSections } from './sections.js';

const MACHINE = ['## Machine', '', '| | |', '|---|---|', '| Node | v20.0.0 |', '| CPU | x |', ''];

function page(date: string, sections: Record<string, string>, machine = MACHINE): string {
  const body = Object.entries(sections).flatMap(([heading, text]) => [heading, '', text, '']);
  return ['# Benchmarks', '', `Written on ${date}.`, '', ...machine, ...body].join('\n');
}

describe('pilot bench sections', () => {
  it('writes every table row on tiny inputs', { timeout: 180_000 }, async () => {
    const progress: string[] = [];
    const lines = await runPilotSections(
      parseSections('pilot,packing'),
      (line) => progress.push(line),
      {
        pilot: {
          overheadJobs: 3,
          inputFileBytes: 1_000_000,
          throughputJobs: 3,
          throughputCores: 2,
          idleSeconds: 2,
          versionRuns: 2,
        },
        packing: { corpusBytes: 1_000_000, rounds: 1 },
      },
    );
    const text = lines.join('\n');

    expect(progress).toHaveLength(2);
    expect(text).toMatch(/^\| none \| 3 \| \d+ \| \d+ \| \d+ \| \d+ \|$/m);
    expect(text).toMatch(
      /^\| one file of 1\.0 MB, random bytes \| 3 \| \d+ \| \d+ \| \d+ \| \d+ \|$/m,
    );
    expect(text).toMatch(/^\| 3 \| 2 \| \d+\.\d\d \| \d+\.\d \|$/m);
    expect(text).toMatch(/^\| Idle \| \d+ \| \d+\.\d \| \d+\.\d \|$/m);
    expect(text).toMatch(/^\| Busy \| \d+ \| \d+\.\d \| \d+\.\d \|$/m);
    expect(text).toMatch(/^\| \d+ \| \d+\.\d\d \| 2 \| \d+ \| \d+ \|$/m);
    expect(text).toMatch(/^\| packSandbox, tar\.\w+ \(default on Node [\d.]+\) \| 1 \|/m);
    expect(text).toMatch(/^Upload of the default packSandbox archive \(\d+\.\d\d MB\)/m);
  });
});

describe('pilot log timelines', () => {
  const line = (jobId: number, msg: string, time: string, extra = {}) => ({
    jobId,
    msg,
    time: `2026-01-01T00:00:${time}Z`,
    ...extra,
  });

  it('takes the engine lines of each job', () => {
    const timelines = readJobTimelines([
      line(1, 'job matched', '00.000'),
      line(1, 'job matched', '00.005'),
      line(1, 'payload starting', '00.020', { document: 'job-1.cwl' }),
      line(1, 'payload starting', '00.030', { command: 'true' }),
      line(1, 'payload finished', '00.040'),
      line(1, 'job finished', '00.100'),
    ]);

    expect(timelines).toHaveLength(1);
    const [job] = timelines;
    expect(job!.payloadStartMs - job!.matchedMs).toBe(30);
    expect(job!.finishedMs - job!.payloadExitMs).toBe(60);
  });

  it('rejects a job without a final line', () => {
    const lines = [
      line(4, 'job matched', '00.000'),
      line(4, 'payload starting', '00.030', { command: 'true' }),
      line(4, 'payload finished', '00.040'),
    ];

    expect(() => readJobTimelines(lines)).toThrow(/job 4: .* finishedMs/);
  });
});

describe('bench page merge', () => {
  const previous = page('old', {
    '## Start-up': 'old start-up',
    '## Pilot throughput': 'old throughput',
  });
  const fresh = page('new', {
    '## Start-up': 'empty start-up',
    '## Pilot throughput': 'new throughput',
  });
  const run = { date: 'new-date', loadAverage: 0.5 };

  it('keeps sections that did not run', () => {
    const merged = mergePage(fresh, previous, parseSections('pilot'), run);

    expect(merged).toContain('old start-up');
    expect(merged).not.toContain('empty start-up');
    expect(merged).toContain('new throughput');
    expect(merged).toContain('Written on old.');
    expect(merged).toContain('- `pilot`: new-date, load average 0.50');
  });

  it('updates the note of a second partial run', () => {
    const once = mergePage(fresh, previous, parseSections('pilot'), run);
    const twice = mergePage(fresh, once, parseSections('pilot,startup'), {
      date: 'later',
      loadAverage: 1,
    });

    expect(twice).toContain('- `startup`: later, load average 1.00');
    expect(twice).toContain('- `pilot`: later, load average 1.00');
    expect(twice).not.toContain('new-date');
    expect(twice.match(/measured again later/g)).toHaveLength(1);
  });

  it('returns a full run unchanged', () => {
    expect(mergePage(fresh, previous, parseSections(undefined), run)).toBe(fresh);
  });

  it('rejects a page from another machine', () => {
    const other = page('old', { '## Start-up': 'x' }, [...MACHINE.slice(0, 5), '| CPU | y |', '']);

    expect(() => mergePage(fresh, other, parseSections('pilot'), run)).toThrow(/another machine/);
  });

  it('rejects an unknown section name', () => {
    expect(() => parseSections('pilot,nosuch')).toThrow(/"nosuch" is not a section/);
  });
});
