/**
 * Error messages and exit codes of `ctao-pilot exec` for the mistakes a new user makes first:
 * misspelled types, missing inputs, broken YAML, wrong paths and unknown options.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
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
  await writeTool('ok.cwl', '  []\n');
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

describe('missing required input', () => {
  it('names the input and its type', async () => {
    const tool = await writeTool('need-int.cwl', '  x: int\n');
    const result = exec(tool, 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'missing required input `x` (type int); add it to the input object or give it a default',
    );
    expect(result.stderr).not.toContain('got null');
  });

  it('names a misspelt key of the input object', async () => {
    const tool = await writeTool('need-count.cwl', '  count: int\n');
    await scratch.write('misspelt-job.yml', 'cuont: 3\n');
    const result = exec(tool, 'misspelt-job.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      'missing required input `count` (type int); the input object has `cuont`, ' +
        'which no input declares: rename it to `count`',
    );
  });

  it('blames the document for a bad default', async () => {
    const tool = await writeTool('bad-default.cwl', '  x: {type: int, default: abc}\n');
    const result = exec(tool, 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid value for inputs.x: expected int, got "abc"');
    expect(result.stderr).toContain("Change the parameter's default in the document");
    expect(result.stderr).not.toContain('input object');
  });

  it('describes array and named types briefly', async () => {
    const requirements =
      'requirements:\n  SchemaDefRequirement:\n    types:\n' +
      '      - {name: Color, type: enum, symbols: [red, blue]}\n';
    const tool = await writeTool(
      'need-many.cwl',
      '  words: string[]\n  paint: Color\n',
      requirements,
    );
    await scratch.write('paint-job.yml', 'paint: red\n');
    await scratch.write('words-job.yml', 'words: [a]\n');

    const words = exec(tool, 'paint-job.yml');
    expect(words.status).toBe(1);
    expect(words.stderr).toContain('missing required input `words` (type array of string)');

    const paint = exec(tool, 'words-job.yml');
    expect(paint.status).toBe(1);
    expect(paint.stderr).toContain('missing required input `paint` (type Color)');
  });

  it('says when the input object gives null', async () => {
    const tool = await writeTool('null-int.cwl', '  x: int\n');
    await scratch.write('null-job.yml', 'x: null\n');
    const result = exec(tool, 'null-job.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain('input `x` is null, but its type int does not accept null');
  });

  it('is not raised for optional inputs or defaults', async () => {
    const tool = await writeTool('optional.cwl', '  x: int?\n  y: {type: int, default: 3}\n');
    const result = exec('--quiet', tool, 'empty.yml');

    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});

describe('invalid YAML', () => {
  it('gives the job file position on one line', async () => {
    const job = await scratch.write('bad-job.yml', 'a: [1,\nb: : x\n');
    const result = exec('ok.cwl', 'bad-job.yml');
    const [firstLine = '', ...rest] = result.stderr.split('\n');

    expect(result.status).toBe(1);
    expect(firstLine).toBe(
      `ctao-pilot exec: invalid YAML in ${job} at line 2, column 4: ` +
        'missed comma between flow collection entries',
    );
    expect(rest).toContain('     2 | b: : x');
    expect(rest).toContain(`    ${'-'.repeat(8)}^`);
  });

  it('puts the document excerpt on its own lines', async () => {
    const document = await scratch.write(
      'bad-yaml.cwl',
      'cwlVersion: v1.2\nclass: CommandLineTool\ninputs: [\n  foo: : bar\n',
    );
    const result = exec('bad-yaml.cwl', 'empty.yml');
    const lines = result.stderr.split('\n');

    expect(result.status).toBe(1);
    expect(lines[0]).toBe(
      `ctao-pilot exec: invalid YAML in ${document} at line 4, column 8: ` +
        'missed comma between flow collection entries',
    );
    expect(lines.slice(1, 5)).toEqual([
      '     1 | cwlVersion: v1.2',
      '     2 | class: CommandLineTool',
      '     3 | inputs: [',
      '     4 |   foo: : bar',
    ]);
    // The caret sits under column 8 of the source line: four spaces of indent, then the
    // five characters of the line-number gutter.
    expect(lines[5]).toBe(`    ${'-'.repeat(5 + 7)}^`);
  });
});

describe('unreadable file', () => {
  it('reports a missing document', () => {
    const result = exec('no-such-tool.cwl', 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `ctao-pilot exec: CWL document not found: ${path.join(scratch.dir, 'no-such-tool.cwl')}\n`,
    );
  });

  it('reports a missing job file', async () => {
    const result = exec('ok.cwl', 'no-such-job.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `ctao-pilot exec: job file not found: ${path.join(scratch.dir, 'no-such-job.yml')}\n`,
    );
  });

  it('reports a folder given as document', async () => {
    const folder = await scratch.folder('a-folder');
    const result = exec('a-folder', 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`ctao-pilot exec: CWL document ${folder} is a folder, not a file\n`);
  });

  it('reports a folder given as job file', async () => {
    const folder = await scratch.folder('a-folder');
    const result = exec('ok.cwl', 'a-folder');

    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`ctao-pilot exec: job file ${folder} is a folder, not a file\n`);
  });
});

describe('programs that cannot start', () => {
  it.each([
    ['no-such-program-here', 'program not found on PATH (', 'install it or add its folder to PATH'],
    ['/no/such/program', 'no such file; check the path', 'no such file'],
  ])('names why %s cannot start', async (program, reason, advice) => {
    const tool = await scratch.write(
      `start-${path.basename(program)}.cwl`,
      `cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: ${program}\ninputs: []\noutputs: []\n`,
    );
    const result = exec(tool, 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`cannot start "${program}": ${reason}`);
    expect(result.stderr).toContain(advice);
  });
});

describe('output and temporary folders', () => {
  it('names a file given as output folder', async () => {
    const file = await scratch.write('plain-file', '');
    const result = exec('--outdir', file, 'ok.cwl', 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `ctao-pilot exec: cannot make the output folder ${file}: a file is in the way; ` +
        'give a folder that can be made or exists\n',
    );
  });

  it('names a temporary folder under a file', async () => {
    const file = await scratch.write('another-file', '');
    const result = exec('--tmpdir-prefix', path.join(file, 'tmp'), 'ok.cwl', 'empty.yml');

    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `cannot make the folder for temporary files ${path.join(file, 'tmp')}: a file is in the way`,
    );
  });

  it('removes a temporary folder it made', async () => {
    const prefix = path.join(scratch.dir, 'new-prefix', 'deeper');
    const result = exec('--outdir', 'out-prefix', '--tmpdir-prefix', prefix, 'ok.cwl', 'empty.yml');

    expect(result.status).toBe(0);
    expect(existsSync(path.join(scratch.dir, 'new-prefix'))).toBe(false);
  });

  it('keeps a temporary folder that existed', async () => {
    const prefix = await scratch.folder('old-prefix');
    const result = exec('--outdir', 'out-prefix', '--tmpdir-prefix', prefix, 'ok.cwl', 'empty.yml');

    expect(result.status).toBe(0);
    expect(readdirSync(prefix)).toEqual([]);
  });
});

describe('unknown option', () => {
  it('names the option and prints usage', () => {
    const result = exec('--bogus', 'ok.cwl', 'empty.yml');
    const [firstLine, secondLine, thirdLine] = result.stderr.split('\n');

    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(firstLine).toBe('ctao-pilot exec: unknown option --bogus');
    expect(secondLine).toBe('');
    expect(thirdLine).toBe('Usage: ctao-pilot exec [options] DOCUMENT [JOB]');
  });

  it('names an unknown short option', () => {
    const result = exec('-hz', 'ok.cwl');

    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('ctao-pilot exec: unknown option -z');
  });

  it('names an option given a value', () => {
    const result = exec('--bogus=3', 'ok.cwl');

    expect(result.status).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe('ctao-pilot exec: unknown option --bogus');
  });
});
