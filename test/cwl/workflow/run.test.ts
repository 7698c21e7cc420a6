import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CwlExecutionError, CwlValidationError } from '../../../src/errors.js';
import { Scratch } from '../helpers.js';

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('cwl-workflow-');
});

afterAll(async () => {
  await scratch.remove();
});

type FileValue = Record<string, unknown> & { path: string };

/** A tool that prints its `text` input on stdout, captured into the output `out`. */
const ECHO_TOOL = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: echo
inputs:
  text: {type: string, inputBinding: {}}
outputs:
  out:
    type: string
    outputBinding: {glob: out.txt, loadContents: true, outputEval: '$(self[0].contents)'}
stdout: out.txt
`;

/** A tool that runs `sh -c SCRIPT` and returns nothing. */
const SHELL_TOOL =
  '{class: CommandLineTool, baseCommand: [sh, -c], ' +
  'inputs: {script: {type: string, inputBinding: {}}}, outputs: {}}';

describe('workflow loading', () => {
  it('loads a run given as a relative path', async () => {
    await scratch.write('tools/echo.cwl', ECHO_TOOL);
    const result = await scratch.run(
      'path-run.cwl',
      `class: Workflow
inputs: {word: string}
outputs:
  said: {type: string, outputSource: speak/out}
steps:
  speak:
    run: tools/echo.cwl
    in: {text: word}
    out: [out]
`,
      { word: 'hello' },
    );
    expect(result.outputs).toEqual({ said: 'hello\n' });
  });

  it('runs a #name of a packed graph', async () => {
    const result = await scratch.run(
      'packed.cwl',
      `$graph:
- id: echo
  class: CommandLineTool
  baseCommand: echo
  inputs: {text: {type: string, inputBinding: {}}}
  outputs:
    out: {type: string, outputBinding: {glob: o.txt, loadContents: true, outputEval: '$(self[0].contents)'}}
  stdout: o.txt
- id: main
  class: Workflow
  inputs: {word: string}
  outputs:
    said: {type: string, outputSource: speak/out}
  steps:
    speak: {run: '#echo', in: {text: word}, out: [out]}
`,
      { word: 'hi' },
    );
    expect(result.outputs).toEqual({ said: 'hi\n' });
  });

  it('resolves an outputSource that names a workflow input', async () => {
    const result = await scratch.run(
      'input-output.cwl',
      `class: Workflow
inputs: {word: string}
outputs:
  same: {type: string, outputSource: word}
steps: []
`,
      { word: 'kept' },
    );
    expect(result.outputs).toEqual({ same: 'kept' });
  });

  it('rejects a cycle naming its steps', async () => {
    const run = scratch.run(
      'cycle.cwl',
      `class: Workflow
inputs: {}
outputs: {}
steps:
  first:
    run: {class: ExpressionTool, requirements: {InlineJavascriptRequirement: {}}, inputs: {x: Any?}, outputs: {y: Any?}, expression: '$({y: 1})'}
    in: {x: second/y}
    out: [y]
  second:
    run: {class: ExpressionTool, requirements: {InlineJavascriptRequirement: {}}, inputs: {x: Any?}, outputs: {y: Any?}, expression: '$({y: 1})'}
    in: {x: first/y}
    out: [y]
`,
    );
    await expect(run).rejects.toThrow(CwlValidationError);
    await expect(run).rejects.toThrow(/steps (first -> second -> first|second -> first -> second)/);
  });

  it('rejects a source that does not exist', async () => {
    const run = scratch.run(
      'missing-source.cwl',
      `class: Workflow
inputs: {}
outputs:
  o: {type: string, outputSource: nowhere/out}
steps: []
`,
    );
    await expect(run).rejects.toThrow(CwlValidationError);
    await expect(run).rejects.toThrow('invalid workflow output "o": source "nowhere/out"');
  });
});

describe('step inputs', () => {
  const PASS = `{class: ExpressionTool, requirements: {InlineJavascriptRequirement: {}}, inputs: {v: Any?}, outputs: {v: Any?}, expression: '$({v: inputs.v})'}`;

  it('skips a step whose when is false', async () => {
    const result = await scratch.run(
      'when.cwl',
      `class: Workflow
requirements: {InlineJavascriptRequirement: {}, MultipleInputFeatureRequirement: {}}
inputs: {n: int}
outputs:
  small: {type: Any?, outputSource: low/v}
  picked: {type: string, outputSource: [low/v, high/v], pickValue: first_non_null}
steps:
  low:
    run: ${PASS}
    when: $(inputs.v < 10)
    in: {v: {source: n, valueFrom: $('low ' + self)}, n: n}
    out: [v]
  high:
    run: ${PASS}
    when: $(inputs.n >= 10)
    in: {v: {source: n, valueFrom: $('high ' + self)}, n: n}
    out: [v]
`,
      { n: 12 },
    );
    expect(result.outputs.small).toBeNull();
    expect(result.outputs.picked).toBe('high 12');
  });

  it('gives valueFrom the inputs before valueFrom', async () => {
    const result = await scratch.run(
      'value-from.cwl',
      `class: Workflow
requirements: {InlineJavascriptRequirement: {}, StepInputExpressionRequirement: {}}
inputs: {a: int}
outputs:
  v: {type: Any, outputSource: s/v}
steps:
  s:
    run: ${PASS}
    in:
      a: a
      b: {default: 5}
      v: {source: a, valueFrom: '$([self, inputs.a, inputs.b])'}
    out: [v]
`,
      { a: 1 },
    );
    expect(result.outputs.v).toEqual([1, 1, 5]);
  });

  it('nulls skipped scatter jobs', async () => {
    const result = await scratch.run(
      'scatter-when.cwl',
      `class: Workflow
requirements: {InlineJavascriptRequirement: {}, ScatterFeatureRequirement: {}}
inputs: {items: 'int[]'}
outputs:
  v: {type: Any, outputSource: s/v}
steps:
  s:
    run: ${PASS}
    scatter: v
    when: $(inputs.v % 2 == 0)
    in: {v: items}
    out: [v]
`,
      { items: [1, 2, 3, 4] },
    );
    expect(result.outputs.v).toEqual([null, 2, null, 4]);
  });
});

describe('requirement inheritance', () => {
  it('passes the step requirement down to the tool', async () => {
    const result = await scratch.run(
      'inherit.cwl',
      `class: Workflow
requirements:
  EnvVarRequirement: {envDef: {WHO: workflow}}
hints:
  EnvVarRequirement: {envDef: {WHO: hint}}
inputs: {}
outputs:
  who: {type: string, outputSource: s/who}
steps:
  s:
    requirements:
      EnvVarRequirement: {envDef: {WHO: step}}
    run:
      class: CommandLineTool
      hints:
        EnvVarRequirement: {envDef: {WHO: tool-hint}}
      baseCommand: [sh, -c, 'printf %s "$WHO"']
      inputs: {}
      outputs:
        who:
          type: string
          outputBinding: {glob: o.txt, loadContents: true, outputEval: '$(self[0].contents)'}
      stdout: o.txt
    in: {}
    out: [who]
`,
    );
    expect(result.outputs.who).toBe('step');
  });
});

describe('parallel runs', () => {
  const TWO_SLEEPS = `class: Workflow
inputs: {}
outputs: {}
steps:
  one:
    run: ${SHELL_TOOL}
    in: {script: {default: 'sleep 1'}}
    out: []
  two:
    run: ${SHELL_TOOL}
    in: {script: {default: 'sleep 1'}}
    out: []
`;

  it('overlaps independent steps', async () => {
    const started = Date.now();
    await scratch.run(
      'sleeps-parallel.cwl',
      TWO_SLEEPS,
      {},
      {
        parallel: true,
        runtime: { cores: 2, ramMb: 1024 },
      },
    );
    expect(Date.now() - started).toBeLessThan(1800);
  });

  it('runs one job at a time without parallel', async () => {
    const started = Date.now();
    await scratch.run('sleeps-serial.cwl', TWO_SLEEPS, {}, { runtime: { cores: 2, ramMb: 1024 } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it('gives scattered stdout outputs their own files', async () => {
    const result = await scratch.run(
      'scatter-stdout.cwl',
      `class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {words: 'string[]'}
outputs:
  files: {type: 'File[]', outputSource: say/out}
steps:
  say:
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs: {text: {type: string, inputBinding: {}}}
      outputs: {out: stdout}
      stdout: said.txt
    scatter: text
    in: {text: words}
    out: [out]
`,
      { words: ['a', 'b', 'c'] },
      { parallel: true },
    );
    const files = result.outputs.files as FileValue[];
    const paths = files.map((file) => file.path);
    expect(new Set(paths).size).toBe(3);
    expect(files.map((file) => readFileSync(file.path, 'utf8'))).toEqual(['a\n', 'b\n', 'c\n']);
    for (const file of paths) expect(path.dirname(file)).toBe(result.outdir);
  });
});

describe('step failure', () => {
  it('stops the rest and names the step', async () => {
    const marker = path.join(scratch.dir, 'after-slow.txt');
    const started = Date.now();
    const run = scratch.run(
      'failing.cwl',
      `class: Workflow
inputs: {}
outputs: {}
steps:
  broken:
    run: ${SHELL_TOOL}
    in: {script: {default: 'sleep 0.2; exit 3'}}
    out: []
  slow:
    run:
      class: CommandLineTool
      baseCommand: [sleep, '20']
      inputs: {}
      outputs: {done: {type: string, outputBinding: {outputEval: finished}}}
    in: {}
    out: [done]
  after:
    run: ${SHELL_TOOL}
    in:
      wait: slow/done
      script: {default: 'touch ${marker}'}
    out: []
`,
      {},
      { parallel: true, runtime: { cores: 2, ramMb: 1024 } },
    );
    await expect(run).rejects.toThrow(CwlExecutionError);
    await expect(run).rejects.toThrow('step broken failed: the tool exited with code 3');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(existsSync(marker)).toBe(false);
  });

  it('names the scatter index of a failed job', async () => {
    const run = scratch.run(
      'failing-scatter.cwl',
      `class: Workflow
requirements: {ScatterFeatureRequirement: {}}
inputs: {codes: 'string[]'}
outputs: {}
steps:
  check:
    run: ${SHELL_TOOL}
    scatter: script
    in: {script: codes}
    out: []
`,
      { codes: ['exit 0', 'exit 0', 'exit 7'] },
    );
    await expect(run).rejects.toThrow('step check[2] failed: the tool exited with code 7');
  });
});
