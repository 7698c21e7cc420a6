import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildCommandLine,
  compareKeys,
  quoteForShell,
  toShellScript,
} from '../../src/cwl/command-line.js';
import { createEvaluator } from '../../src/cwl/evaluate.js';
import { loadCwlDocument } from '../../src/cwl/loader.js';
import { collectNamedTypes } from '../../src/cwl/schema.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cwl-cmdline-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Loads `yaml` as a tool and returns its command line for `inputs`. */
async function commandLine(yaml: string, inputs: Record<string, unknown>): Promise<string[]> {
  const file = path.join(dir, `tool-${Math.random().toString(16).slice(2)}.cwl`);
  await writeFile(file, `cwlVersion: v1.2\nclass: CommandLineTool\noutputs: []\n${yaml}`);
  const { process } = await loadCwlDocument(file);
  const evaluator = createEvaluator(process, inputs, undefined);
  const words = await buildCommandLine(process, inputs, collectNamedTypes(process), evaluator);
  return words.map((word) => word.text);
}

describe('buildCommandLine', () => {
  it('sorts by position then input name', async () => {
    const argv = await commandLine(
      `baseCommand: [tool, sub]
inputs:
  b: {type: string, inputBinding: {position: 1}}
  a: {type: string, inputBinding: {position: 1}}
  c: {type: string, inputBinding: {position: -1}}
`,
      { a: 'A', b: 'B', c: 'C' },
    );
    expect(argv).toEqual(['tool', 'sub', 'C', 'A', 'B']);
  });

  it('puts arguments before inputs at one position', async () => {
    const argv = await commandLine(
      `baseCommand: echo
arguments: [first, {valueFrom: second, position: 2}]
inputs:
  x: {type: string, inputBinding: {}}
`,
      { x: 'input' },
    );
    expect(argv).toEqual(['echo', 'first', 'input', 'second']);
  });

  it('applies prefix, separate and booleans', async () => {
    const argv = await commandLine(
      `baseCommand: run
inputs:
  flag: {type: boolean, inputBinding: {prefix: --on, position: 1}}
  off: {type: boolean, inputBinding: {prefix: --off, position: 2}}
  n: {type: int, inputBinding: {prefix: -n, separate: false, position: 3}}
  missing: {type: "string?", inputBinding: {prefix: --never, position: 4}}
`,
      { flag: true, off: false, n: 7, missing: null },
    );
    expect(argv).toEqual(['run', '--on', '-n7']);
  });

  it('joins arrays with itemSeparator', async () => {
    const argv = await commandLine(
      `baseCommand: run
inputs:
  list: {type: "string[]", inputBinding: {prefix: -I, itemSeparator: ","}}
  empty: {type: "string[]", inputBinding: {prefix: -E}}
`,
      { list: ['1', '2', '3'], empty: [] },
    );
    expect(argv).toEqual(['run', '-I', '1,2,3']);
  });

  it('binds array items after the outer prefix', async () => {
    const argv = await commandLine(
      `baseCommand: run
inputs:
  reads:
    type: {type: array, items: string, inputBinding: {prefix: -Y}}
    inputBinding: {prefix: -X, position: 2}
  plain: {type: "string[]", inputBinding: {position: 1}}
`,
      { reads: ['r1', 'r2'], plain: ['p1', 'p2'] },
    );
    expect(argv).toEqual(['run', 'p1', 'p2', '-X', '-Y', 'r1', '-Y', 'r2']);
  });

  it('binds record fields at their own positions', async () => {
    const argv = await commandLine(
      `baseCommand: run
arguments: [{valueFrom: middle, position: 2}]
inputs:
  rec:
    type:
      type: record
      fields:
        first: {type: string, inputBinding: {position: 1}}
        last: {type: string, inputBinding: {position: 3}}
`,
      { rec: { first: 'F', last: 'L' } },
    );
    expect(argv).toEqual(['run', 'F', 'middle', 'L']);
  });

  it('evaluates valueFrom with self', async () => {
    const argv = await commandLine(
      `baseCommand: run
inputs:
  x: {type: string, inputBinding: {prefix: --x=, separate: false, valueFrom: "$(self)-suffix"}}
`,
      { x: 'value' },
    );
    expect(argv).toEqual(['run', '--x=value-suffix']);
  });

  it('writes File inputs as their path', async () => {
    const argv = await commandLine(
      `baseCommand: cat
inputs:
  f: {type: File, inputBinding: {}}
`,
      { f: { class: 'File', path: '/data/in.txt', location: 'file:///data/in.txt' } },
    );
    expect(argv).toEqual(['cat', '/data/in.txt']);
  });

  it('writes small and large floats without exponent', async () => {
    const argv = await commandLine(
      `baseCommand: echo
inputs:
  small: {type: double, inputBinding: {position: 1}}
  large: {type: double, inputBinding: {position: 2}}
`,
      { small: 1.23e-5, large: 1.5e21 },
    );
    expect(argv).toEqual(['echo', '0.0000123', '1500000000000000000000']);
  });
});

describe('compareKeys', () => {
  it('orders numbers before strings', () => {
    expect(compareKeys([1, 0], [1, 'a'])).toBeLessThan(0);
  });

  it('orders a parent before its children', () => {
    expect(compareKeys([1, 'a'], [1, 'a', 0, 0])).toBeLessThan(0);
  });
});

describe('shell quoting', () => {
  it('leaves safe words alone', () => {
    expect(quoteForShell('a/b.txt')).toBe('a/b.txt');
  });

  it('quotes spaces and single quotes', () => {
    expect(quoteForShell("it's here")).toBe(`'it'"'"'s here'`);
  });

  it('keeps words with shellQuote false raw', () => {
    const script = toShellScript([
      { text: 'echo', shellQuote: true },
      { text: 'a b', shellQuote: true },
      { text: '>', shellQuote: false },
      { text: 'out', shellQuote: true },
    ]);
    expect(script).toBe("echo 'a b' > out");
  });
});
