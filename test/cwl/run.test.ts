import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CwlExecutionError, CwlUnsupportedError, CwlValidationError } from '../../src/errors.js';
import { Scratch } from './helpers.js';

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('cwl-run-');
});

afterAll(async () => {
  await scratch.remove();
});

type FileValue = Record<string, unknown> & { path: string };

/** Returns whether a process with this id still runs; a zombie waiting to be reaped does not. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

describe('payload environment', () => {
  it('starts from an explicit environment', async () => {
    process.env.CTAO_TEST_SECRET = 'do-not-leak';
    try {
      const result = await scratch.run(
        'env.cwl',
        `class: CommandLineTool
requirements:
  EnvVarRequirement:
    envDef: {FROM_TOOL: $(inputs.word)}
baseCommand: env
stdout: env.txt
inputs:
  word: string
outputs:
  env: {type: File, outputBinding: {glob: env.txt}}
`,
        { word: 'tool-value' },
        { baseEnv: { FROM_BASE: 'base-value' } },
      );
      const lines = readFileSync((result.outputs.env as FileValue).path, 'utf8').split('\n');
      const names = lines.map((line) => line.split('=')[0]).filter((name) => name !== '');
      expect(names.sort()).toEqual(['FROM_BASE', 'FROM_TOOL', 'HOME', 'PATH', 'TMPDIR']);
      expect(lines).toContain('FROM_TOOL=tool-value');
    } finally {
      delete process.env.CTAO_TEST_SECRET;
    }
  });
});

describe('exit codes', () => {
  const tool = (code: number): string => `class: CommandLineTool
baseCommand: [sh, -c, 'exit ${code}']
successCodes: [0, 3]
temporaryFailCodes: [75]
inputs: []
outputs: []
`;

  it('accepts a listed success code', async () => {
    const result = await scratch.run('exit3.cwl', tool(3));
    expect(result.status).toBe('success');
  });

  it('maps a temporary failure code', async () => {
    const error = await scratch.run('exit75.cwl', tool(75)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CwlExecutionError);
    expect((error as CwlExecutionError).processStatus).toBe('temporaryFail');
  });

  it('maps other codes to permanent failure', async () => {
    const error = await scratch.run('exit2.cwl', tool(2)).catch((caught: unknown) => caught);
    expect((error as CwlExecutionError).processStatus).toBe('permanentFail');
  });
});

describe('resources', () => {
  const tool = `class: CommandLineTool
requirements: {ResourceRequirement: {coresMin: 1.5, ramMin: 100.2}}
baseCommand: echo
arguments: [$(runtime.cores), $(runtime.ram)]
stdout: runtime.txt
inputs: []
outputs:
  out: {type: File, outputBinding: {glob: runtime.txt}}
`;

  it('rounds fractions up', async () => {
    const result = await scratch.run('resources.cwl', tool);
    expect(readFileSync((result.outputs.out as FileValue).path, 'utf8')).toBe('2 101\n');
  });

  it('caps at the runtime limits', async () => {
    const result = await scratch.run(
      'resources-capped.cwl',
      tool,
      {},
      {
        runtime: { cores: 1, ramMb: 64 },
      },
    );
    expect(readFileSync((result.outputs.out as FileValue).path, 'utf8')).toBe('1 64\n');
  });
});

describe('stopping payloads', () => {
  it('kills the process group on ToolTimeLimit', async () => {
    const started = Date.now();
    const run = scratch.run(
      'timeout.cwl',
      `class: CommandLineTool
requirements: {ToolTimeLimit: {timelimit: 1}}
baseCommand: [sleep, '30']
inputs: []
outputs: []
`,
    );
    await expect(run).rejects.toThrow(/ToolTimeLimit/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('kills the whole group on abort', async () => {
    const controller = new AbortController();
    const pidFile = `${scratch.dir}/child.pid`;
    const run = scratch.run(
      'abort.cwl',
      `class: CommandLineTool
baseCommand: [sh, -c, 'sleep 30 & echo $! > ${pidFile}; wait']
inputs: []
outputs: []
`,
      {},
      {
        signal: controller.signal,
        onProcessStart: () => setTimeout(() => controller.abort(), 300),
      },
    );
    const error = await run.catch((caught: unknown) => caught);
    expect((error as CwlExecutionError).code).toBe('CWL_ABORTED');
    const childPid = Number(readFileSync(pidFile, 'utf8'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(isRunning(childPid)).toBe(false);
  });
});

describe('inputs', () => {
  it('resolves job locations against jobBaseDir', async () => {
    await scratch.write('data/in.txt', 'input text');
    const result = await scratch.run(
      'cat.cwl',
      `class: CommandLineTool
baseCommand: cat
stdout: copy.txt
inputs:
  f: {type: File, inputBinding: {}}
outputs:
  copy: {type: File, outputBinding: {glob: copy.txt}}
`,
      { f: { class: 'File', location: 'data/in.txt' } },
    );
    expect(readFileSync((result.outputs.copy as FileValue).path, 'utf8')).toBe('input text');
  });

  it('writes a File literal', async () => {
    const result = await scratch.run(
      'literal.cwl',
      `class: CommandLineTool
baseCommand: cat
stdout: copy.txt
inputs:
  f: {type: File, inputBinding: {}}
outputs:
  copy: {type: File, outputBinding: {glob: copy.txt}}
`,
      { f: { class: 'File', basename: 'note.txt', contents: 'literal text' } },
    );
    expect(readFileSync((result.outputs.copy as FileValue).path, 'utf8')).toBe('literal text');
  });

  it('rejects a value of the wrong type', async () => {
    const run = scratch.run(
      'typed.cwl',
      'class: CommandLineTool\nbaseCommand: echo\ninputs:\n  n: int\noutputs: []\n',
      { n: 'seven' },
    );
    await expect(run).rejects.toBeInstanceOf(CwlValidationError);
  });

  it('rejects a missing input file', async () => {
    const run = scratch.run(
      'missing-input.cwl',
      'class: CommandLineTool\nbaseCommand: echo\ninputs:\n  f: File\noutputs: []\n',
      { f: { class: 'File', location: 'no-such-file.txt' } },
    );
    await expect(run).rejects.toThrow(/not found/);
  });
});

describe('process classes', () => {
  it('runs an ExpressionTool', async () => {
    const result = await scratch.run(
      'expr.cwl',
      `class: ExpressionTool
requirements: {InlineJavascriptRequirement: {}}
inputs:
  n: int
outputs:
  doubled: int
expression: '\${ return {doubled: inputs.n * 2}; }'
`,
      { n: 21 },
    );
    expect(result.outputs).toEqual({ doubled: 42 });
  });

  it('rejects DockerRequirement under requirements', async () => {
    const run = scratch.run(
      'docker.cwl',
      `class: CommandLineTool
requirements: {DockerRequirement: {dockerPull: debian}}
baseCommand: 'true'
inputs: []
outputs: []
`,
    );
    await expect(run).rejects.toBeInstanceOf(CwlUnsupportedError);
  });

  it('ignores DockerRequirement under hints', async () => {
    const result = await scratch.run(
      'docker-hint.cwl',
      `class: CommandLineTool
hints: {DockerRequirement: {dockerPull: debian}}
baseCommand: 'true'
inputs: []
outputs: []
`,
    );
    expect(result.status).toBe('success');
  });

  it('reports Operation as unsupported', async () => {
    const run = scratch.run('operation.cwl', 'class: Operation\ninputs: []\noutputs: []\n');
    await expect(run).rejects.toThrow(/Operation/);
  });
});
