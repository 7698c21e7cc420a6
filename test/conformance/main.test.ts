import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TestResult } from './execute.js';
import type { Report } from './report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '../..');
const SUITE_DIR = path.join(HERE, 'fixtures/suite');
const FAKE_RUNNER = `${process.execPath} ${path.join(HERE, 'fixtures/fake-runner.mjs')}`;
const TSX = path.join(REPO_ROOT, 'node_modules/.bin/tsx');

/** Tags of every fixture test except `slow`, which only the timeout test runs. */
const QUICK_TAGS = 'required,command_line_tool,expression_tool,workflow';

interface LogLine {
  argv: string[];
  cwd: string;
  pid: number;
}

let workDir: string;

beforeEach(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'conformance-main-'));
});

afterEach(() => {
  rmSync(workDir, { recursive: true, force: true });
});

/** Runs the conformance command on the fixture suite with the fake runner. */
function runMain(args: string[], runner = FAKE_RUNNER) {
  const result = spawnSync(
    TSX,
    [
      path.join(HERE, 'main.ts'),
      '--suite',
      SUITE_DIR,
      '--runner',
      runner,
      '--report',
      path.join(workDir, 'report.json'),
      ...args,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, FAKE_RUNNER_LOG: path.join(workDir, 'runner.log') },
      timeout: 60_000,
    },
  );
  const lines = result.stdout.trimEnd().split('\n');
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, lines };
}

function readReport(): Report {
  return JSON.parse(readFileSync(path.join(workDir, 'report.json'), 'utf8')) as Report;
}

function resultOf(report: Report, id: string): TestResult | undefined {
  return report.tests.find((test) => test.id === id);
}

/**
 * Lists processes of a group that are not zombies, from /proc (Linux only). A killed child can
 * stay a zombie until its new parent reaps it, and `kill(-pgid, 0)` still finds zombies.
 */
function liveProcessesInGroup(pgid: number): string[] {
  const live: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesized command name: state, ppid, pgrp, ...
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z') {
      live.push(`${entry} ${stat.slice(0, stat.lastIndexOf(')') + 1)}`);
    }
  }
  return live;
}

function readRunnerLog(): LogLine[] {
  const text = readFileSync(path.join(workDir, 'runner.log'), 'utf8');
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as LogLine);
}

describe('conformance command on the fixture suite', () => {
  it('prints the totals as its last line', () => {
    const run = runMain(['--tags', QUICK_TAGS]);
    // Failed tests make the run exit 1, as cwltest does.
    expect(run.status).toBe(1);
    expect(run.lines.at(-1)).toBe('5 passed, 4 failed, 2 unsupported');
  });

  it('scores each test in the report', () => {
    runMain(['--tags', QUICK_TAGS]);
    const statuses = Object.fromEntries(readReport().tests.map((test) => [test.id, test.status]));
    expect(statuses).toEqual({
      file_output: 'passed',
      wrong_value: 'failed',
      unsupported_feature: 'unsupported',
      unsupported_required: 'failed',
      expected_failure: 'passed',
      unexpected_success: 'failed',
      should_fail_unsupported: 'unsupported',
      not_json: 'failed',
      empty_stdout: 'passed',
      packed_workflow: 'passed',
      imported_test: 'passed',
    });
  });

  it('records tags, seconds and reasons', () => {
    runMain(['--tags', QUICK_TAGS]);
    const wrong = resultOf(readReport(), 'wrong_value');
    expect(wrong?.tags).toEqual(['command_line_tool']);
    expect(wrong?.seconds).toBeGreaterThan(0);
    expect(wrong?.reason).toBe('$.args[1]: expected "b", got "c"');
  });

  it('prints a row per tag', () => {
    const run = runMain(['--tags', QUICK_TAGS]);
    const header = run.lines.find((line) => line.startsWith('tag '));
    const required = run.lines.find((line) => line.startsWith('required '));
    expect(header?.split(/\s{2,}/)).toEqual([
      'tag',
      'passed',
      'failed',
      'unsupported',
      'total',
      'pass %',
    ]);
    expect(required?.split(/\s+/)).toEqual(['required', '3', '1', '0', '4', '75.0']);
  });

  it('passes the cwltest command line', () => {
    runMain(['--ids', 'file_output']);
    const [call] = readRunnerLog();
    expect(call?.cwd).toBe(SUITE_DIR);
    expect(call?.argv).toHaveLength(4);
    expect(call?.argv[0]).toMatch(/^--outdir=\//);
    expect(call?.argv.slice(1)).toEqual(['--quiet', 'tests/write-file.cwl', 'tests/job.json']);
  });

  it('gives each run a fresh output folder and deletes it', () => {
    runMain(['--ids', 'file_output,packed_workflow']);
    const outdirs = readRunnerLog().map((call) => call.argv[0]?.slice('--outdir='.length) ?? '');
    expect(new Set(outdirs).size).toBe(2);
    expect(outdirs.filter((outdir) => existsSync(outdir))).toEqual([]);
  });

  it('keeps output folders on request', () => {
    runMain(['--ids', 'file_output', '--keep-outdirs']);
    const outdir = resultOf(readReport(), 'file_output')?.outdir ?? '';
    try {
      expect(readFileSync(path.join(outdir, 'out.txt'), 'utf8')).toBe('hello\n');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('omits the job when a test has none', () => {
    runMain(['--ids', 'wrong_value']);
    expect(readRunnerLog()[0]?.argv.slice(1)).toEqual(['--quiet', 'tests/wrong-value.cwl']);
  });

  it('splits the runner command on spaces', () => {
    runMain(['--ids', 'wrong_value'], `${FAKE_RUNNER}  --no-container`);
    expect(readRunnerLog()[0]?.argv[0]).toBe('--no-container');
  });

  it('keeps suite order with parallel jobs', () => {
    runMain(['--tags', QUICK_TAGS, '--jobs', '4']);
    expect(readReport().tests.map((test) => test.id)).toEqual([
      'file_output',
      'wrong_value',
      'unsupported_feature',
      'unsupported_required',
      'expected_failure',
      'unexpected_success',
      'should_fail_unsupported',
      'not_json',
      'empty_stdout',
      'packed_workflow',
      'imported_test',
    ]);
  });
});

describe('conformance command timeout', () => {
  it('fails the test and kills its process group', () => {
    const started = Date.now();
    const run = runMain(['--ids', 'slow', '--timeout', '1']);
    const slow = resultOf(readReport(), 'slow');
    expect(run.lines.at(-1)).toBe('0 passed, 1 failed, 0 unsupported');
    expect(slow?.reason).toBe('timed out after 1 s');
    expect(Date.now() - started).toBeLessThan(20_000);

    const pid = readRunnerLog()[0]?.pid;
    expect(pid).toBeGreaterThan(0);
    expect(liveProcessesInGroup(pid as number)).toEqual([]);
  });
});

describe('conformance command selection', () => {
  it('lists the selected ids', () => {
    const run = runMain(['--list', '--tags', 'workflow,docker']);
    expect(run.lines).toEqual(['unsupported_feature', 'packed_workflow']);
  });

  it('drops workflows with --select tools', () => {
    const run = runMain(['--list', '--select', 'tools']);
    expect(run.lines).not.toContain('packed_workflow');
    expect(run.lines).toContain('imported_test');
  });

  it('keeps tool tags with --select tool-tags', () => {
    const run = runMain(['--list', '--select', 'tool-tags']);
    expect(run.lines).not.toContain('packed_workflow');
    expect(run.lines).not.toContain('slow');
    expect(run.lines).toHaveLength(10);
  });

  it('drops DockerRequirement with --select no-docker', () => {
    const run = runMain(['--list', '--select', 'no-docker']);
    expect(run.lines).not.toContain('unsupported_feature');
    expect(run.lines).not.toContain('imported_test');
    expect(run.lines).toContain('should_fail_unsupported');
  });

  it('rejects an unknown id', () => {
    const run = runMain(['--list', '--ids', 'file_output,no_such_test']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('no_such_test');
  });

  it('rejects an invalid jobs count', () => {
    const run = runMain(['--jobs', '0']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--jobs "0" is invalid');
  });

  it('rejects an unknown option with usage', () => {
    const run = runMain(['--tag', 'required']);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('Usage: npm run conformance');
  });

  it('rejects a missing runner script', () => {
    const run = runMain(['--ids', 'file_output'], `${process.execPath} /nonexistent/runner.mjs`);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('npm run build');
  });
});

describe('conformance command floor', () => {
  function writeFloor(floor: object): string {
    const file = path.join(workDir, 'floor.json');
    writeFileSync(file, JSON.stringify(floor));
    return file;
  }

  it('exits 1 below the floor', () => {
    const run = runMain(['--tags', QUICK_TAGS, '--floor', writeFloor({ min_passed: 6 })]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('Floor not met: 5 passed, but the floor requires 6.');
    expect(run.lines.at(-1)).toBe('5 passed, 4 failed, 2 unsupported');
  });

  it('exits 0 at the floor', () => {
    const run = runMain(['--tags', QUICK_TAGS, '--floor', writeFloor({ min_passed: 5 })]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Floor met');
  });

  it('selects by the floor tags', () => {
    const floor = writeFloor({ min_passed: 1, tags: ['workflow'] });
    const run = runMain(['--floor', floor]);
    expect(run.status).toBe(0);
    expect(run.lines.at(-1)).toBe('1 passed, 0 failed, 0 unsupported');
  });

  it('rejects a floor without min_passed', () => {
    const run = runMain(['--list', '--floor', writeFloor({ tags: ['workflow'] })]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('"min_passed" must be an integer');
  });
});
