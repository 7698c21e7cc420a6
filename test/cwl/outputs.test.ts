import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CwlExecutionError } from '../../src/errors.js';
import { Scratch } from './helpers.js';

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('cwl-outputs-');
});

afterAll(async () => {
  await scratch.remove();
});

function sha1(text: string): string {
  return `sha1$${createHash('sha1').update(text).digest('hex')}`;
}

type FileValue = Record<string, unknown> & { path: string; location: string };

describe('output collection', () => {
  it('globs a file with size and checksum', async () => {
    const result = await scratch.run(
      'glob.cwl',
      `class: CommandLineTool
baseCommand: [sh, -c, 'printf hello > out.txt']
inputs: []
outputs:
  out: {type: File, outputBinding: {glob: out.txt}}
`,
    );
    const out = result.outputs.out as FileValue;
    expect(out.basename).toBe('out.txt');
    expect(out.nameroot).toBe('out');
    expect(out.nameext).toBe('.txt');
    expect(out.size).toBe(5);
    expect(out.checksum).toBe(sha1('hello'));
    expect(out.path).toBe(path.join(result.outdir, 'out.txt'));
    expect(out.location).toBe(`file://${result.outdir}/out.txt`);
    expect(readFileSync(out.path, 'utf8')).toBe('hello');
  });

  it('sorts array glob matches', async () => {
    const result = await scratch.run(
      'glob-array.cwl',
      `class: CommandLineTool
baseCommand: [touch, c.txt, a.txt, b.txt, skip.dat]
inputs: []
outputs:
  out: {type: 'File[]', outputBinding: {glob: '*.txt'}}
`,
    );
    const names = (result.outputs.out as FileValue[]).map((file) => file.basename);
    expect(names).toEqual(['a.txt', 'b.txt', 'c.txt']);
  });

  it('evaluates outputEval over loadContents', async () => {
    const result = await scratch.run(
      'output-eval.cwl',
      `class: CommandLineTool
requirements: {InlineJavascriptRequirement: {}}
baseCommand: [sh, -c, 'echo 42 > n.txt']
inputs: []
outputs:
  n:
    type: int
    outputBinding: {glob: n.txt, loadContents: true, outputEval: '$(parseInt(self[0].contents))'}
`,
    );
    expect(result.outputs.n).toBe(42);
  });

  it('rejects loadContents over 64 KiB', async () => {
    const run = scratch.run(
      'too-big.cwl',
      `class: CommandLineTool
baseCommand: [sh, -c, 'head -c 70000 /dev/zero > big.bin']
inputs: []
outputs:
  big: {type: File, outputBinding: {glob: big.bin, loadContents: true}}
`,
    );
    await expect(run).rejects.toThrow(/larger than 65536 bytes/);
  });

  it('rejects a glob outside the output folder', async () => {
    const run = scratch.run(
      'escape.cwl',
      `class: CommandLineTool
baseCommand: 'true'
inputs: []
outputs:
  out: {type: 'File?', outputBinding: {glob: ../*}}
`,
    );
    await expect(run).rejects.toThrow(/outside the output folder/);
  });

  it('rejects a link to a file outside the run', async () => {
    const outside = await scratch.write('outside.txt', 'secret');
    const run = scratch.run(
      'link-out.cwl',
      `class: CommandLineTool
baseCommand: [ln, -s, ${outside}, link.txt]
inputs: []
outputs:
  out: {type: File, outputBinding: {glob: link.txt}}
`,
    );
    await expect(run).rejects.toThrow(/symbolic link/);
  });

  it('gives a random name to a stdout output', async () => {
    const result = await scratch.run(
      'stdout.cwl',
      `class: CommandLineTool
baseCommand: [echo, hi]
inputs: []
outputs:
  out: stdout
`,
    );
    const out = result.outputs.out as FileValue;
    expect(out.basename).toMatch(/^stdout-[0-9a-f]+$/);
    expect(readFileSync(out.path, 'utf8')).toBe('hi\n');
  });

  it('adds secondary files that exist', async () => {
    const result = await scratch.run(
      'secondary.cwl',
      `class: CommandLineTool
baseCommand: [touch, data.bam, data.bai]
inputs: []
outputs:
  bam:
    type: File
    secondaryFiles: [^.bai, .missing]
    outputBinding: {glob: data.bam}
`,
    );
    const bam = result.outputs.bam as FileValue & { secondaryFiles: FileValue[] };
    expect(bam.secondaryFiles.map((file) => file.basename)).toEqual(['data.bai']);
    expect(existsSync(bam.secondaryFiles[0]?.path as string)).toBe(true);
  });

  it('takes outputs from cwl.output.json', async () => {
    const result = await scratch.run(
      'output-json.cwl',
      `class: CommandLineTool
baseCommand:
  - sh
  - -c
  - 'echo x > f.txt; echo "{\\"n\\": 3, \\"f\\": {\\"class\\": \\"File\\", \\"location\\": \\"f.txt\\"}}" > cwl.output.json'
inputs: []
outputs:
  n: int
  f: File
`,
    );
    expect(result.outputs.n).toBe(3);
    expect((result.outputs.f as FileValue).checksum).toBe(sha1('x\n'));
  });

  it('measures files from cwl.output.json itself', async () => {
    const declared =
      '{\\"f\\": {\\"class\\": \\"File\\", \\"location\\": \\"f.txt\\", \\"size\\": 1, \\"checksum\\": \\"sha1$0\\"}}';
    const result = await scratch.run(
      'output-json-checksum.cwl',
      `class: CommandLineTool
baseCommand: [sh, -c, 'printf abc > f.txt; echo "${declared}" > cwl.output.json']
inputs: []
outputs:
  f: File
`,
    );
    const file = result.outputs.f as FileValue;
    expect(file.size).toBe(3);
    expect(file.checksum).toBe(sha1('abc'));
  });

  it('lists a Directory output deeply', async () => {
    const result = await scratch.run(
      'dir-out.cwl',
      `class: CommandLineTool
baseCommand: [sh, -c, 'mkdir -p d/e && touch d/a d/e/b']
inputs: []
outputs:
  d: {type: Directory, outputBinding: {glob: d}}
`,
    );
    const dir = result.outputs.d as { listing: (FileValue & { listing?: FileValue[] })[] };
    expect(dir.listing.map((entry) => entry.basename)).toEqual(['a', 'e']);
    expect(dir.listing[1]?.listing?.[0]?.basename).toBe('b');
    expect(dir.listing[0]?.checksum).toBe(sha1(''));
  });

  it('fails on a missing required output', async () => {
    const run = scratch.run(
      'missing.cwl',
      `class: CommandLineTool
baseCommand: 'true'
inputs: []
outputs:
  out: {type: File, outputBinding: {glob: none.txt}}
`,
    );
    await expect(run).rejects.toBeInstanceOf(CwlExecutionError);
  });
});

describe('output relocation', () => {
  it('copies a passed-through input and leaves it in place', async () => {
    const inputs = await scratch.folder('inputs-kept');
    await scratch.write('inputs-kept/a.txt', 'keep me');
    const result = await scratch.run(
      'pass-through.cwl',
      `class: CommandLineTool
requirements:
  InitialWorkDirRequirement:
    listing: [$(inputs.dir)]
baseCommand: 'true'
inputs:
  dir: Directory
outputs:
  inner: {type: File, outputBinding: {glob: $(inputs.dir.basename)/a.txt}}
`,
      { dir: { class: 'Directory', location: inputs } },
    );
    expect(await readdir(inputs)).toEqual(['a.txt']);
    const inner = result.outputs.inner as FileValue;
    expect(inner.path.startsWith(result.outdir)).toBe(true);
    expect(readFileSync(inner.path, 'utf8')).toBe('keep me');
  });
});
