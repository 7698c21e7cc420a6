import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scratch } from './helpers.js';

const CLI = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
/** tsx's loader as a URL, so the child resolves it whatever its working folder. */
const TSX_LOADER = pathToFileURL(
  path.join(
    path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')),
    'dist/loader.mjs',
  ),
).href;

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('cwl-exec-');
  await scratch.write(
    'echo.cwl',
    `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  word: {type: string, inputBinding: {}}
outputs:
  out: {type: File, outputBinding: {glob: out.txt}}
stdout: out.txt
`,
  );
  await scratch.write('echo-job.yml', 'word: hello\n');
  await scratch.write(
    'chatty.cwl',
    'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: [echo, chatter]\ninputs: []\noutputs: []\n',
  );
  await scratch.write(
    'docker.cwl',
    `cwlVersion: v1.2
class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: debian}}
baseCommand: 'true'
inputs: []
outputs: []
`,
  );
});

afterAll(async () => {
  await scratch.remove();
});

/** Runs `ctao-pilot exec` from the sources with `args`, in the scratch folder. */
function exec(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', TSX_LOADER, CLI, 'exec', ...args], {
    cwd: scratch.dir,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ctao-pilot exec', () => {
  it('prints the output object as JSON', async () => {
    const outdir = await scratch.folder('out-json');
    const result = exec(`--outdir=${outdir}`, '--quiet', 'echo.cwl', 'echo-job.yml');
    expect(result.status).toBe(0);
    const outputs = JSON.parse(result.stdout) as { out: { path: string; checksum: string } };
    expect(outputs.out.path).toBe(path.join(outdir, 'out.txt'));
    expect(readFileSync(outputs.out.path, 'utf8')).toBe('hello\n');
    expect(outputs.out.checksum).toMatch(/^sha1\$[0-9a-f]{40}$/);
  });

  it('accepts --outdir with a separate value', async () => {
    const outdir = await scratch.folder('out-separate');
    const result = exec('--outdir', outdir, 'echo.cwl', 'echo-job.yml');
    expect(result.status).toBe(0);
    expect(readFileSync(path.join(outdir, 'out.txt'), 'utf8')).toBe('hello\n');
  });

  it('sends tool output to stderr', async () => {
    const outdir = await scratch.folder('out-chatty');
    const result = exec('--outdir', outdir, 'chatty.cwl');
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({});
    expect(result.stderr).toContain('chatter');
  });

  it('exits 33 for DockerRequirement', () => {
    const result = exec('docker.cwl');
    expect(result.status).toBe(33);
    expect(result.stderr).toMatch(/DockerRequirement is not supported/);
  });

  it('exits 1 on invalid input', () => {
    const result = exec('echo.cwl');
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/missing required input `word`/);
  });

  it('exits 2 on an unknown flag', () => {
    const result = exec('--no-such-flag', 'echo.cwl');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/Usage: ctao-pilot exec/);
  });

  // Python sets the pipe's write end non-blocking and reads nothing for a while, so writes of
  // the output object fail with EAGAIN once the pipe is full.
  it.skipIf(!hasPython())('prints everything into a full non-blocking pipe', async () => {
    await scratch.write(
      'many-lines.cwl',
      `cwlVersion: v1.2
class: ExpressionTool
requirements: {InlineJavascriptRequirement: {}}
inputs: {count: int}
outputs: {lines: 'string[]'}
expression: |
  \${ var lines = []; for (var i = 0; i < inputs.count; i++) lines.push('line ' + i); return {lines: lines}; }
`,
    );
    await scratch.write('many-lines-job.yml', 'count: 50000\n');
    const reader = `
import os, subprocess, sys, time
read_end, write_end = os.pipe()
os.set_blocking(write_end, False)
child = subprocess.Popen(sys.argv[1:], stdout=write_end)
os.close(write_end)
time.sleep(0.5)
data = b''
while True:
    chunk = os.read(read_end, 65536)
    if not chunk:
        break
    data += chunk
sys.stdout.buffer.write(data)
sys.exit(child.wait())
`;
    const command = [process.execPath, '--import', TSX_LOADER, CLI, 'exec', '--quiet'];
    const result = spawnSync(
      'python3',
      ['-c', reader, ...command, 'many-lines.cwl', 'many-lines-job.yml'],
      { cwd: scratch.dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const lines = (JSON.parse(result.stdout) as { lines: string[] }).lines;
    expect(lines).toHaveLength(50000);
    expect(lines.at(-1)).toBe('line 49999');
  });
});

function hasPython(): boolean {
  return spawnSync('python3', ['--version']).status === 0;
}
