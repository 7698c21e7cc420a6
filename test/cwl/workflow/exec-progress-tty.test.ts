/**
 * Runs the built bundle's `exec` on a small scattered Workflow, once under a pseudo-terminal
 * made by util-linux `script` and once with piped output. `npm test` builds the bundle first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scratch } from '../helpers.js';

const BUNDLE = fileURLToPath(new URL('../../../dist/ctao-pilot.cjs', import.meta.url));
const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;

const TOOL = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: [sh, -c, 'sleep 0.3; echo "$0"']
inputs:
  word: {type: string, inputBinding: {position: 1}}
outputs:
  out: {type: File, outputBinding: {glob: out.txt}}
stdout: out.txt
`;

const WORKFLOW = `cwlVersion: v1.2
class: Workflow
requirements: {ScatterFeatureRequirement: {}, StepInputExpressionRequirement: {}}
inputs:
  words: string[]
outputs:
  echoed:
    type: File[]
    outputSource: echo/out
  final:
    type: File
    outputSource: finish/out
steps:
  echo:
    run: sleep-echo.cwl
    scatter: word
    in: {word: words}
    out: [out]
  finish:
    run: sleep-echo.cwl
    in:
      word: {source: echo/out, valueFrom: "$(self.length) words"}
    out: [out]
`;

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('cwl-exec-progress-');
  await scratch.write('sleep-echo.cwl', TOOL);
  await scratch.write('pipeline.cwl', WORKFLOW);
  await scratch.write('job.yml', 'words: [alpha, beta, gamma, delta]\n');
});

afterAll(async () => {
  await scratch.remove();
});

/** Quotes `value` for a POSIX shell. */
function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

describe('exec progress display', () => {
  it('bundle exists', () => {
    expect(existsSync(BUNDLE), `${BUNDLE} is missing: run npm run build first`).toBe(true);
  });

  it.runIf(HAS_SCRIPT)('draws and erases frames on a terminal', async () => {
    const outdir = await scratch.folder('tty-out');
    const command = [
      process.execPath,
      BUNDLE,
      'exec',
      '--outdir',
      outdir,
      'pipeline.cwl',
      'job.yml',
    ]
      .map(shellQuote)
      .join(' ');
    // script gives the command a pseudo-terminal and copies everything it writes to stdout.
    const result = spawnSync('script', ['-qfec', command, '/dev/null'], {
      cwd: scratch.dir,
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '100', LINES: '30' },
    });
    const output = result.stdout;
    expect(result.status, output).toBe(0);
    expect(output).toContain('running  echo');
    expect(output).toMatch(/\/4 jobs finished/);
    expect(output).toContain('steps done');
    expect(output).toContain('\x1b[J');

    // The last frame is erased before the output object is printed.
    const afterLastErase = output.slice(output.lastIndexOf('\x1b[J') + 3);
    expect(afterLastErase).not.toContain('steps done');
    expect(afterLastErase).toContain('"echoed"');
  });

  it('prints no progress when piped', async () => {
    const outdir = await scratch.folder('pipe-out');
    const result = spawnSync(
      process.execPath,
      [BUNDLE, 'exec', '--outdir', outdir, 'pipeline.cwl', 'job.yml'],
      { cwd: scratch.dir, encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('\x1b[');
    expect(result.stderr).not.toContain('steps done');
    expect(JSON.parse(result.stdout).echoed).toHaveLength(4);
  });
});
