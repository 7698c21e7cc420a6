/**
 * Error messages and exit codes of `ctao-pilot exec` for the mistakes a new user makes first:
 * misspelled types, missing inputs, broken YAML, wrong paths and unknown options.
 */
import { spawnSync } from 'node:child_process';
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
  scratch = await Scratch.create('cwl-messages-');
  await scratch.write('empty.yml', '{}\n');
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

/** Writes a CommandLineTool that runs `true` with the given `inputs:` block. */
async function writeTool(name: string, inputs: string, requirements = ''): Promise<string> {
  const text = `cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: 'true'\n${requirements}inputs:\n${inputs}outputs: []\n`;
  await scratch.write(name, text);
  return name;
}

describe('unknown input type', () => {
  it('names the input and the short type name', async () => {
    const tool = await writeTool('bad1.cwl', '  msg:\n    type: strng\n');
    await scratch.write('msg-job.yml', 'msg: hello\n');
    const result = exec(tool, 'msg-job.yml');

    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`invalid CWL document ${path.join(scratch.dir, 'bad1.cwl')}:`);
    expect(result.stderr).toContain('input `msg` has an unknown type `strng`');
    expect(result.stderr).toContain('did you mean `string`?');
    expect(result.stderr).toContain('Valid types are null, boolean, int');
    expect(result.stderr).toContain('define it in SchemaDefRequirement');
    expect(result.stderr).not.toContain('file://');
    expect(result.stderr).not.toContain('input object');
  });

  it('is reported before inputs are read', async () => {
    const tool = await writeTool('bad-file.cwl', '  data: Flie\n');
    await scratch.write('missing-file-job.yml', 'data: {class: File, path: no-such-file.txt}\n');
    const result = exec(tool, 'missing-file-job.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('input `data` has an unknown type `Flie`');
    expect(result.stderr).toContain('did you mean `File`?');
    expect(result.stderr).not.toContain('no-such-file.txt');
  });

  it('is found inside a record field', async () => {
    const inputs =
      '  point:\n    type:\n      type: record\n      name: Point\n' +
      '      fields: [{name: x, type: flaot}]\n';
    const tool = await writeTool('bad-field.cwl', inputs);
    const result = exec(tool, 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('input `point` has an unknown type `flaot`');
    expect(result.stderr).toContain('did you mean `float`?');
  });

  it('lists the types the document defines', async () => {
    const requirements =
      'requirements:\n  SchemaDefRequirement:\n    types:\n' +
      '      - {name: Color, type: enum, symbols: [red, blue]}\n';
    const tool = await writeTool('bad-named.cwl', '  paint: Colr[]\n', requirements);
    const result = exec(tool, 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('input `paint` has an unknown type `Colr`');
    expect(result.stderr).toContain('did you mean `Color`?');
    expect(result.stderr).toContain('plus the types this document defines: Color.');
  });

  it('accepts defined types in shorthands', async () => {
    const requirements =
      'requirements:\n  SchemaDefRequirement:\n    types:\n' +
      '      - {name: Color, type: enum, symbols: [red, blue]}\n';
    const inputs =
      '  one: Color?\n  many: Color[]\n  xsd: "http://www.w3.org/2001/XMLSchema#int"\n';
    const tool = await writeTool('good-named.cwl', inputs, requirements);
    await scratch.write('good-named-job.yml', 'many: [red]\nxsd: 3\n');
    const result = exec('--quiet', tool, 'good-named-job.yml');

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
