import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseCwlDocument } from '../../src/cwl/salad/index.js';

let dir: string;
let uri: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cwl-salad-'));
  uri = pathToFileURL(path.join(dir, 'tool.cwl')).href;
  await writeFile(path.join(dir, 'inputs.yml'), 'msg: {type: string}\n');
  await writeFile(path.join(dir, 'lib.js'), 'var x = 1;\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TOOL = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n';

function readLocal(url: string): string {
  return readFileSync(fileURLToPath(url), 'utf8');
}

function normalise(text: string): Record<string, unknown> {
  const result = normaliseCwlDocument(parse(text) as Record<string, unknown>, uri, readLocal);
  if (!result.ok) throw new Error(result.message);
  expect(result.processes).toHaveLength(1);
  return result.processes[0]!;
}

function rejection(text: string): string {
  const result = normaliseCwlDocument(parse(text) as Record<string, unknown>, uri, readLocal);
  expect(result.ok).toBe(false);
  return result.ok ? '' : result.message;
}

describe('salad ids and scopes', () => {
  it('gives the document URI to a process without id', () => {
    expect(normalise(`${TOOL}inputs: []\noutputs: []\n`).id).toBe(uri);
  });

  it('scopes parameter ids under the process', () => {
    const tool = normalise(`${TOOL}id: t\ninputs: {a: string}\noutputs: []\n`);
    expect(tool.id).toBe(`${uri}#t`);
    expect((tool.inputs as Array<{ id: string }>)[0]!.id).toBe(`${uri}#t/a`);
  });

  it('resolves step sources two scopes up', () => {
    const workflow = normalise(
      [
        'cwlVersion: v1.2',
        'class: Workflow',
        'inputs: {x: string}',
        'outputs: {o: {type: string, outputSource: s/out}}',
        'steps: {s: {run: t.cwl, in: {y: x}, out: [out]}}',
      ].join('\n'),
    );
    const step = (workflow.steps as Array<Record<string, unknown>>)[0]!;
    expect(step.run).toBe('t.cwl');
    expect(step.out).toEqual([`${uri}#s/out`]);
    expect(step.in).toEqual([{ id: `${uri}#s/y`, source: `${uri}#x` }]);
    // cwl-ts-auto 0.1.3 resolves outputSource in the output's own scope; the planner compensates.
    const output = (workflow.outputs as Array<Record<string, unknown>>)[0]!;
    expect(output.outputSource).toBe(`${uri}#o/s/out`);
  });

  it('gives an anonymous record type a blank id', () => {
    const tool = normalise(
      `${TOOL}inputs: {r: {type: {type: record, fields: {f: int}}}}\noutputs: []\n`,
    );
    const type = (tool.inputs as Array<{ type: Record<string, unknown> }>)[0]!.type;
    expect(type.name).toMatch(/^_[0-9a-f-]{36}$/);
    expect(type.fields).toEqual([{ name: `${uri}#r/f`, type: 'int' }]);
  });
});

describe('salad type shorthands and map forms', () => {
  it('expands optional arrays', () => {
    const tool = normalise(`${TOOL}inputs: {a: 'File[]?'}\noutputs: []\n`);
    const input = (tool.inputs as Array<Record<string, unknown>>)[0]!;
    expect(input.type).toEqual([
      'null',
      { type: 'array', items: 'File', name: expect.stringMatching(/^_[0-9a-f-]{36}$/) },
    ]);
  });

  it('resolves a named type against the document', () => {
    const tool = normalise(`${TOOL}inputs: {a: Thing}\noutputs: []\n`);
    expect((tool.inputs as Array<Record<string, unknown>>)[0]!.type).toBe(`${uri}#Thing`);
  });

  it('sorts map-form inputs by key', () => {
    const tool = normalise(`${TOOL}inputs: {b: string, a: int}\noutputs: []\n`);
    const ids = (tool.inputs as Array<{ id: string }>).map((input) => input.id);
    expect(ids).toEqual([`${uri}#a`, `${uri}#b`]);
  });

  it('keys map-form hints by class with a None value', () => {
    const tool = normalise(`${TOOL}hints: {Foo: 3}\ninputs: []\noutputs: []\n`);
    expect(tool.hints).toEqual([{ None: 3, class: 'Foo' }]);
  });

  it('expands secondaryFiles shorthands', () => {
    const tool = normalise(
      `${TOOL}inputs: {f: {type: File, secondaryFiles: [.bai?, .crai]}}\noutputs: []\n`,
    );
    const input = (tool.inputs as Array<Record<string, unknown>>)[0]!;
    expect(input.secondaryFiles).toEqual([
      { pattern: '.bai', required: false },
      { pattern: '.crai' },
    ]);
  });
});

describe('salad imports and namespaces', () => {
  it('imports inputs from another file', () => {
    const tool = normalise(`${TOOL}inputs: {$import: inputs.yml}\noutputs: []\n`);
    const input = (tool.inputs as Array<Record<string, unknown>>)[0]!;
    expect(input.id).toBe(pathToFileURL(path.join(dir, 'inputs.yml')).href + '#msg');
  });

  it('includes a file as text', () => {
    const tool = normalise(
      `${TOOL}requirements: {InlineJavascriptRequirement: {expressionLib: [{$include: lib.js}]}}\ninputs: []\noutputs: []\n`,
    );
    const requirement = (tool.requirements as Array<Record<string, unknown>>)[0]!;
    expect(requirement.expressionLib).toEqual(['var x = 1;\n']);
  });

  it('expands a namespace prefix in formats', () => {
    const tool = normalise(
      `${TOOL}$namespaces: {edam: 'http://edamontology.org/'}\ninputs: {f: {type: File, format: 'edam:format_1'}}\noutputs: []\n`,
    );
    const input = (tool.inputs as Array<Record<string, unknown>>)[0]!;
    expect(input.format).toBe('http://edamontology.org/format_1');
    expect(tool.$namespaces).toEqual({ edam: 'http://edamontology.org/' });
  });

  it('reports a missing import file', () => {
    expect(rejection(`${TOOL}inputs: {$import: nope.yml}\noutputs: []\n`)).toContain('nope.yml');
  });
});

describe('salad rejections', () => {
  it('names an unknown field', () => {
    expect(rejection(`${TOOL}inptus: []\ninputs: []\noutputs: []\n`)).toMatch(
      /^invalid field `inptus`, expected one of: `id`, `class`/,
    );
  });

  it('names a missing required field', () => {
    expect(rejection(`${TOOL}inputs: []\n`)).toBe('required field `outputs` is missing');
  });

  it('names the field and value of a wrong type', () => {
    expect(
      rejection(`${TOOL}inputs: {a: {type: string, inputBinding: {prefix: 3}}}\noutputs: []\n`),
    ).toBe('inputs[a].inputBinding.prefix: expected a string, got 3');
  });

  it('names an invalid enum symbol', () => {
    const text = `${TOOL}inputs: {a: {type: Directory, loadListing: all}}\noutputs: []\n`;
    expect(rejection(text)).toBe(
      'inputs[a].loadListing: expected one of no_listing, shallow_listing, deep_listing, got "all"',
    );
  });

  it('rejects an undeclared extension prefix', () => {
    expect(rejection(`${TOOL}ex:note: 1\ninputs: []\noutputs: []\n`)).toBe(
      'extension field `ex:note` uses a prefix that `$namespaces` does not declare',
    );
  });

  it('rejects a secondaryFiles entry without pattern', () => {
    const text = `${TOOL}inputs: {f: {type: File, secondaryFiles: [{required: true}]}}\noutputs: []\n`;
    expect(rejection(text)).toContain('has no `pattern`');
  });
});
