import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CwlValidationError } from '../../src/errors.js';
import { loadCwlDocument } from '../../src/cwl/loader.js';
import { findRequirement } from '../../src/cwl/model.js';
import { collectNamedTypes, resolveType } from '../../src/cwl/schema.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cwl-loader-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeDocument(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text);
  return file;
}

const PACKED = `cwlVersion: v1.2
$graph:
  - id: helper
    class: CommandLineTool
    baseCommand: "false"
    inputs: []
    outputs: []
  - id: main
    class: ExpressionTool
    requirements: {InlineJavascriptRequirement: {}}
    inputs: []
    outputs: []
    expression: "$({})"
`;

describe('loadCwlDocument with $graph', () => {
  it('picks #main without a fragment', async () => {
    const file = await writeDocument('packed.cwl', PACKED);
    const loaded = await loadCwlDocument(file);
    expect(loaded.process.class).toBe('ExpressionTool');
    expect(loaded.graph).toHaveLength(2);
  });

  it('picks the process named by the fragment', async () => {
    const file = await writeDocument('packed.cwl', PACKED);
    const loaded = await loadCwlDocument(`${file}#helper`);
    expect(loaded.process.class).toBe('CommandLineTool');
  });

  it('rejects an unknown fragment', async () => {
    const file = await writeDocument('packed.cwl', PACKED);
    await expect(loadCwlDocument(`${file}#nothing`)).rejects.toThrow(/#nothing not found.*#helper/);
  });
});

describe('loadCwlDocument named types', () => {
  it('resolves a SchemaDefRequirement type from $import', async () => {
    await writeDocument('types/pair.yml', 'name: Pair\ntype: record\nfields:\n  a: string\n');
    const file = await writeDocument(
      'schemadef.cwl',
      `cwlVersion: v1.2
class: CommandLineTool
requirements:
  SchemaDefRequirement:
    types:
      - $import: types/pair.yml
inputs:
  p: types/pair.yml#Pair
outputs: []
baseCommand: echo
`,
    );
    const { process } = await loadCwlDocument(file);
    const input = (process.inputs as Record<string, unknown>[])[0] as Record<string, unknown>;
    const resolved = resolveType(input.type as string, collectNamedTypes(process));
    expect(resolved).toMatchObject({ type: 'record' });
  });
});

describe('loadCwlDocument secondaryFiles', () => {
  it('loads pattern entries on Workflow inputs', async () => {
    const file = await writeDocument(
      'wf-secondary.cwl',
      `cwlVersion: v1.2
class: Workflow
inputs:
  bam:
    type: File
    secondaryFiles:
      - {pattern: .bai, required: true}
      - {pattern: .crai, required: false}
outputs: []
steps: []
`,
    );
    const { process } = await loadCwlDocument(file);
    const input = (process.inputs as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(input.secondaryFiles).toEqual([
      { pattern: '.bai' },
      { pattern: '.crai', required: false },
    ]);
  });
});

describe('loadCwlDocument version rules', () => {
  it('rejects pattern secondaryFiles in v1.0', async () => {
    const file = await writeDocument(
      'v10.cwl',
      `cwlVersion: v1.0
class: CommandLineTool
inputs:
  f: {type: File, secondaryFiles: [{pattern: .idx, required: true}]}
outputs: []
baseCommand: echo
`,
    );
    await expect(loadCwlDocument(file)).rejects.toThrow(/need cwlVersion v1.1/);
  });

  it('rejects fractional cores in v1.1', async () => {
    const file = await writeDocument(
      'v11.cwl',
      `cwlVersion: v1.1
class: CommandLineTool
requirements: {ResourceRequirement: {coresMin: 0.5}}
inputs: []
outputs: []
baseCommand: echo
`,
    );
    await expect(loadCwlDocument(file)).rejects.toThrow(/whole number/);
  });

  it('upgrades v1.0 with deep listing', async () => {
    const file = await writeDocument(
      'v10-ok.cwl',
      'cwlVersion: v1.0\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseCommand: echo\n',
    );
    const loaded = await loadCwlDocument(file);
    expect(loaded.originalVersion).toBe('v1.0');
    expect(loaded.process.cwlVersion).toBe('v1.2');
    const listing = findRequirement(loaded.process, 'LoadListingRequirement');
    expect(listing?.requirement.loadListing).toBe('deep_listing');
  });

  it('rejects an unknown version', async () => {
    const file = await writeDocument(
      'v9.cwl',
      'cwlVersion: v9.9\nclass: CommandLineTool\ninputs: []\noutputs: []\n',
    );
    await expect(loadCwlDocument(file)).rejects.toThrow(/unknown cwlVersion "v9.9"/);
  });
});

describe('loadCwlDocument errors', () => {
  it('names an unknown class', async () => {
    const file = await writeDocument(
      'bad-class.cwl',
      'cwlVersion: v1.2\nclass: NewClass\ninputs: []\noutputs: []\n',
    );
    await expect(loadCwlDocument(file)).rejects.toThrow(/unknown class "NewClass"/);
  });

  it('names a misspelt field', async () => {
    const file = await writeDocument(
      'bad-field.cwl',
      'cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseComand: echo\n',
    );
    await expect(loadCwlDocument(file)).rejects.toThrow(
      /invalid field `baseComand`, expected one of: .*`baseCommand`/,
    );
  });

  it('rejects an $import over the network', async () => {
    const file = await writeDocument(
      'remote.cwl',
      `cwlVersion: v1.2
class: CommandLineTool
requirements:
  - $import: http://127.0.0.1:9/types.yml
inputs: []
outputs: []
baseCommand: echo
`,
    );
    const error = await loadCwlDocument(file).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CwlValidationError);
  });

  it('loads a file whose name contains #', async () => {
    const file = await writeDocument(
      'name#with#hash.cwl',
      'cwlVersion: v1.2\nclass: CommandLineTool\ninputs: []\noutputs: []\nbaseCommand: echo\n',
    );
    const loaded = await loadCwlDocument(file);
    expect(loaded.process.class).toBe('CommandLineTool');
  });
});
