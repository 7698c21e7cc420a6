import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relocateOutputs } from '../../src/cwl/relocate.js';
import { Scratch } from './helpers.js';

let scratch: Scratch;

beforeAll(async () => {
  scratch = await Scratch.create('ctao-relocate-shared-');
});

afterAll(async () => {
  await scratch.remove();
});

/** Returns a File object of the output form for `file`. */
function fileOutput(file: string): Record<string, unknown> {
  return { class: 'File', path: file, location: `file://${file}`, basename: path.basename(file) };
}

/**
 * Builds a job folder with `step1/dir/blurb` and a staging folder outside it whose `inp` is a
 * symbolic link to `step1/dir`, as a step that updates a folder in place leaves them.
 */
async function makeLinkedJob(name: string): Promise<{ jobDir: string; outdir: string }> {
  const jobDir = await scratch.folder(`${name}/job`);
  await mkdir(path.join(jobDir, 'step1/dir'), { recursive: true });
  await writeFile(path.join(jobDir, 'step1/dir/blurb'), 'updated in place\n');
  const stage = await scratch.folder(`${name}/stage`);
  await symlink(path.join(jobDir, 'step1/dir'), path.join(stage, 'inp'));
  const outdir = await scratch.folder(`${name}/out`);
  return { jobDir, outdir };
}

function locationOf(outputs: Record<string, unknown>, key: string): string {
  return (outputs[key] as Record<string, unknown>).location as string;
}

describe('relocateOutputs with one real file behind two paths', () => {
  it('moves the file once when the real path comes first', async () => {
    const { jobDir, outdir } = await makeLinkedJob('real-first');
    const outputs = await relocateOutputs(
      {
        a: fileOutput(path.join(jobDir, 'step1/dir/blurb')),
        b: fileOutput(path.join(scratch.dir, 'real-first/stage/inp/blurb')),
      },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'a')).toBe(`file://${outdir}/step1/dir/blurb`);
    expect(locationOf(outputs, 'b')).toBe(locationOf(outputs, 'a'));
    expect(await readdir(path.join(outdir, 'step1/dir'))).toEqual(['blurb']);
    expect(await readdir(outdir)).toEqual(['step1']);
  });

  it('copies the file once when the link comes first', async () => {
    const { jobDir, outdir } = await makeLinkedJob('link-first');
    const outputs = await relocateOutputs(
      {
        a: fileOutput(path.join(scratch.dir, 'link-first/stage/inp/blurb')),
        b: fileOutput(path.join(jobDir, 'step1/dir/blurb')),
      },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'a')).toBe(`file://${outdir}/blurb`);
    expect(locationOf(outputs, 'b')).toBe(locationOf(outputs, 'a'));
    expect(await readdir(outdir)).toEqual(['blurb']);
    expect(await readFile(path.join(outdir, 'blurb'), 'utf8')).toBe('updated in place\n');
  });

  it('points a file into its relocated folder', async () => {
    const { jobDir, outdir } = await makeLinkedJob('in-folder');
    const folder = path.join(jobDir, 'step1/dir');
    const outputs = await relocateOutputs(
      {
        d: { class: 'Directory', path: folder, location: `file://${folder}`, basename: 'dir' },
        f: fileOutput(path.join(scratch.dir, 'in-folder/stage/inp/blurb')),
      },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'd')).toBe(`file://${outdir}/step1/dir`);
    expect(locationOf(outputs, 'f')).toBe(`file://${outdir}/step1/dir/blurb`);
    expect(await readdir(outdir)).toEqual(['step1']);
  });

  it('keeps different files of one name apart', async () => {
    const jobDir = await scratch.folder('distinct/job');
    await scratch.write('distinct/elsewhere/one/blurb', 'one\n');
    await scratch.write('distinct/elsewhere/two/blurb', 'two\n');
    const outdir = await scratch.folder('distinct/out');
    const outputs = await relocateOutputs(
      {
        a: fileOutput(path.join(scratch.dir, 'distinct/elsewhere/one/blurb')),
        b: fileOutput(path.join(scratch.dir, 'distinct/elsewhere/two/blurb')),
      },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'a')).toBe(`file://${outdir}/blurb`);
    expect(locationOf(outputs, 'b')).toBe(`file://${outdir}/blurb_2`);
    expect(await readFile(path.join(outdir, 'blurb_2'), 'utf8')).toBe('two\n');
  });
});

describe('workflow with an in-place folder update', () => {
  it('returns one location for both paths', async () => {
    await scratch.write(
      'inplace/mkdir.cwl',
      `cwlVersion: v1.2
class: CommandLineTool
inputs:
  dirname: string
outputs:
  out:
    type: Directory
    outputBinding:
      glob: $(inputs.dirname)
arguments: [mkdir, $(inputs.dirname)]
`,
    );
    await scratch.write(
      'inplace/touch.cwl',
      `cwlVersion: v1.2
class: CommandLineTool
requirements:
  InitialWorkDirRequirement:
    listing:
      - entry: $(inputs.r)
        entryname: inp
        writable: true
  InplaceUpdateRequirement:
    inplaceUpdate: true
inputs:
  r: Directory
outputs:
  out:
    type: Directory
    outputBinding:
      glob: inp
arguments: [touch, inp/blurb]
`,
    );
    const result = await scratch.run(
      'inplace/workflow.cwl',
      `class: Workflow
requirements:
  InlineJavascriptRequirement: {}
inputs: []
outputs:
  a:
    type: File[]
    outputSource: list/first
  b:
    type: File[]
    outputSource: list/second
steps:
  create:
    in:
      dirname: {default: made}
    out: [out]
    run: mkdir.cwl
  update:
    in:
      r: create/out
    out: [out]
    run: touch.cwl
  list:
    in:
      first: create/out
      second: update/out
    out: [first, second]
    run:
      class: ExpressionTool
      inputs:
        first:
          type: Directory
          loadListing: shallow_listing
        second:
          type: Directory
          loadListing: shallow_listing
      outputs:
        first: File[]
        second: File[]
      expression: "$({first: inputs.first.listing, second: inputs.second.listing})"
`,
    );

    const a = result.outputs.a as Array<Record<string, unknown>>;
    const b = result.outputs.b as Array<Record<string, unknown>>;
    expect(result.status).toBe('success');
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]?.location).toBe(`file://${result.outdir}/blurb`);
    expect(b[0]?.location).toBe(a[0]?.location);
    expect(await readdir(result.outdir)).toEqual(['blurb']);
  });
});

describe('relocateOutputs of entries outside the job folder', () => {
  it('replaces what an earlier run left', async () => {
    const jobDir = await scratch.folder('earlier/job');
    const steps = await scratch.folder('earlier/steps');
    const outdir = await scratch.folder('earlier/out');
    await writeFile(path.join(outdir, 'x.txt'), 'from the earlier run\n');
    await writeFile(path.join(steps, 'x.txt'), 'from this run\n');

    const outputs = await relocateOutputs(
      { x: fileOutput(path.join(steps, 'x.txt')) },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'x')).toBe(`file://${outdir}/x.txt`);
    expect(await readFile(path.join(outdir, 'x.txt'), 'utf8')).toBe('from this run\n');
    expect(await readdir(outdir)).toEqual(['x.txt']);
  });

  it('renames the second of two outputs with one name', async () => {
    const jobDir = await scratch.folder('twice/job');
    const outdir = await scratch.folder('twice/out');
    const first = await scratch.folder('twice/a');
    const second = await scratch.folder('twice/b');
    await writeFile(path.join(first, 'x.txt'), 'a\n');
    await writeFile(path.join(second, 'x.txt'), 'b\n');

    const outputs = await relocateOutputs(
      { a: fileOutput(path.join(first, 'x.txt')), b: fileOutput(path.join(second, 'x.txt')) },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'a')).toBe(`file://${outdir}/x.txt`);
    expect(locationOf(outputs, 'b')).toBe(`file://${outdir}/x.txt_2`);
    expect(await readFile(path.join(outdir, 'x.txt_2'), 'utf8')).toBe('b\n');
  });
});

describe('relocateOutputs onto a folder with content', () => {
  it('keeps the folder and picks a numbered name', async () => {
    const jobDir = await scratch.folder('full/job');
    const outdir = await scratch.folder('full/out');
    await mkdir(path.join(outdir, 'out.txt'));
    await writeFile(path.join(outdir, 'out.txt', 'data'), 'precious\n');
    await writeFile(path.join(jobDir, 'out.txt'), 'output\n');

    const outputs = await relocateOutputs(
      { o: fileOutput(path.join(jobDir, 'out.txt')) },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'o')).toBe(`file://${outdir}/out.txt_2`);
    expect(await readFile(path.join(outdir, 'out.txt', 'data'), 'utf8')).toBe('precious\n');
    expect(await readFile(path.join(outdir, 'out.txt_2'), 'utf8')).toBe('output\n');
  });

  it('replaces an empty folder', async () => {
    const jobDir = await scratch.folder('empty/job');
    const outdir = await scratch.folder('empty/out');
    await mkdir(path.join(outdir, 'out.txt'));
    await writeFile(path.join(jobDir, 'out.txt'), 'output\n');

    const outputs = await relocateOutputs(
      { o: fileOutput(path.join(jobDir, 'out.txt')) },
      jobDir,
      outdir,
    );

    expect(locationOf(outputs, 'o')).toBe(`file://${outdir}/out.txt`);
    expect(await readFile(path.join(outdir, 'out.txt'), 'utf8')).toBe('output\n');
  });
});
