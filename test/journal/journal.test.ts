import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/journal/index.js';
import { createLogger } from '../../src/log.js';
import { PassThrough } from 'node:stream';

function quietLog() {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { log: createLogger({ destination: stream }), lines };
}

function freshFolder(): string {
  return mkdtempSync(join(tmpdir(), 'ctao-pilot-journal-'));
}

const STATUS = { kind: 'status' as const, record: { Source: 'JobWrapper', MinorStatus: 'x' } };

describe('Journal', () => {
  it('keeps pending actions across a reopen', () => {
    const folder = freshFolder();
    const first = Journal.open(folder, quietLog().log);
    first.start('stamp-a');
    first.addJob(7, join(folder, 'jobs', '7'));
    const [done] = first.addActions(7, [STATUS, { kind: 'reschedule' }]);
    first.markDone(7, done?.seq as number);
    first.addCommand(7, 'Kill');
    first.close();

    const second = Journal.open(folder, quietLog().log);

    expect(second.pilotStamp).toBe('stamp-a');
    const job = second.job(7);
    expect(job?.actions.map((entry) => entry.action.kind)).toEqual(['reschedule']);
    expect(job?.commands).toEqual(['Kill']);
    expect(job?.ended).toBe(true);
  });

  it('forgets closed jobs', () => {
    const folder = freshFolder();
    const first = Journal.open(folder, quietLog().log);
    first.start('s');
    first.addJob(1, 'f');
    first.closeJob(1);
    first.close();

    expect(Journal.open(folder, quietLog().log).openJobs()).toEqual([]);
  });

  it('keeps the uploaded sandbox for a later assignment', () => {
    const folder = freshFolder();
    const first = Journal.open(folder, quietLog().log);
    first.start('s');
    first.addJob(3, 'f');
    const [upload] = first.addActions(3, [
      { kind: 'upload', archive: 'a', sha256: 'b', size: 1, format: 'tar.bz2' },
      { kind: 'assign' },
    ]);
    first.markDone(3, upload?.seq as number, { pfn: 'SB:x' });
    first.close();

    const second = Journal.open(folder, quietLog().log);
    second.start('s');
    second.close();
    const third = Journal.open(folder, quietLog().log);

    expect(third.job(3)?.uploadedPfn).toBe('SB:x');
    expect(third.job(3)?.actions.map((entry) => entry.action.kind)).toEqual(['assign']);
  });

  it('ignores a last line cut by a crash', () => {
    const folder = freshFolder();
    const first = Journal.open(folder, quietLog().log);
    first.start('s');
    first.addJob(2, 'f');
    first.close();
    writeFileSync(
      join(folder, 'journal.jsonl'),
      readFileSync(join(folder, 'journal.jsonl'), 'utf8') + '{"type":"act',
    );

    const second = Journal.open(folder, quietLog().log);

    expect(second.openJobs().map((job) => job.jobId)).toEqual([2]);
  });

  it('sets a corrupt journal aside with a message', () => {
    const folder = freshFolder();
    writeFileSync(join(folder, 'journal.jsonl'), 'not json\n{"type":"job"}\n');
    const { log, lines } = quietLog();

    const journal = Journal.open(folder, log);

    expect(journal.openJobs()).toEqual([]);
    expect(readdirSync(folder).some((name) => name.startsWith('journal.jsonl.bad-'))).toBe(true);
    expect(existsSync(join(folder, 'journal.jsonl'))).toBe(false);
    expect(lines.join('\n')).toMatch(/journal unreadable/);
  });

  it('sets a newer journal aside', () => {
    const folder = freshFolder();
    writeFileSync(
      join(folder, 'journal.jsonl'),
      '{"type":"header","version":99,"pilotStamp":"s"}\n',
    );
    const { log, lines } = quietLog();

    Journal.open(folder, log);

    expect(lines.join('\n')).toMatch(/newer than this pilot/);
  });
});
