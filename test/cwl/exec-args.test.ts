import { describe, expect, it } from 'vitest';
import { ExecUsageError, parseExecArgs } from '../../src/commands/exec-args.js';

describe('parseExecArgs', () => {
  it('reads values in both forms', () => {
    const parsed = parseExecArgs(['--outdir', 'out', '--tmpdir-prefix=tmp', 'tool.cwl', 'job.yml']);
    expect(parsed.values).toEqual({ outdir: 'out', 'tmpdir-prefix': 'tmp' });
    expect(parsed.positionals).toEqual(['tool.cwl', 'job.yml']);
  });

  it('reads flags anywhere', () => {
    const parsed = parseExecArgs(['tool.cwl', '--quiet', 'job.yml', '--debug', '--parallel', '-h']);
    expect(parsed.values).toEqual({ quiet: true, debug: true, parallel: true, help: true });
    expect(parsed.positionals).toEqual(['tool.cwl', 'job.yml']);
  });

  it('keeps an empty value given with =', () => {
    expect(parseExecArgs(['--outdir=', 'tool.cwl']).values).toEqual({ outdir: '' });
  });

  it('stops at a double dash', () => {
    const parsed = parseExecArgs(['--quiet', '--', '--outdir', '-']);
    expect(parsed.values).toEqual({ quiet: true });
    expect(parsed.positionals).toEqual(['--outdir', '-']);
  });

  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['--bogus=3'], 'unknown option --bogus'],
    [['-hz'], 'unknown option -z'],
    [['--quiet=yes'], 'invalid --quiet=yes: --quiet takes no value'],
    [['--outdir'], 'missing value for --outdir, as in --outdir DIR'],
    [['--outdir', '--quiet'], 'missing value for --outdir, as in --outdir DIR'],
    [['--tmpdir-prefix'], 'missing value for --tmpdir-prefix, as in --tmpdir-prefix DIR'],
  ])('rejects %j', (argv, message) => {
    expect(() => parseExecArgs(argv)).toThrow(ExecUsageError);
    expect(() => parseExecArgs(argv)).toThrow(message);
  });
});
