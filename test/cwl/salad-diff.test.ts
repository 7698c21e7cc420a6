/**
 * Differential test of the Salad normaliser against cwl-ts-auto, which stays a development
 * dependency as the reference. Every CWL document of the shared corpora, and a table of
 * written documents, must give the same JSON from both, or be rejected by both.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadDocument, ValidationException } from 'cwl-ts-auto';
import { Fetcher, LoadingOptions } from 'cwl-ts-auto/dist/util/Internal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareCwlDocument } from '../../src/cwl/loader.js';
import { normaliseCwlDocument } from '../../src/cwl/salad/index.js';

const SHARED = process.env.CTAO_SHARED ?? path.resolve('../shared');
const CORPORA = [
  path.join(SHARED, 'cwl-conformance/v1.2/tests'),
  path.join(SHARED, 'ctao-cwl-examples'),
  path.join(SHARED, 'dirac-cwl-examples'),
];
const BLANK_ID = /_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
// A YAML document whose top level declares a `class`.
const CLASS_LINE = /^class:/m;

class LocalFileFetcher extends Fetcher {
  async fetchText(url: string): Promise<string> {
    if (!url.startsWith('file:')) throw new ValidationException(`cannot fetch ${url}`);
    try {
      return readFileSync(fileURLToPath(url), 'utf8');
    } catch (error) {
      throw new ValidationException(`cannot read ${url}: ${(error as Error).message}`);
    }
  }

  checkExists(url: string): boolean {
    return url.startsWith('file:');
  }

  urljoin(baseUrl: string, url: string): string {
    return new URL(url, baseUrl).href;
  }
}

type Normalised = { accepted: true; json: unknown } | { accepted: false; reason: string };

/**
 * Turns both outputs into comparable JSON: blank ids become `_UUID`, undefined values become a
 * marker, and objects cwl-ts-auto left unsaved (mapping-form `out` entries) are saved.
 */
function comparable(value: unknown): unknown {
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item === undefined) return '<undefined>';
    const saveable = item as { loadingOptions?: unknown; save?: (...args: unknown[]) => unknown };
    if (saveable?.loadingOptions !== undefined && typeof saveable.save === 'function') {
      return saveable.save(false, '', false);
    }
    return item;
  });
  return JSON.parse(text.replace(BLANK_ID, '_UUID')) as unknown;
}

async function loadWithReference(text: string, file: string): Promise<Normalised> {
  const { raw } = prepareCwlDocument(text, file);
  const uri = pathToFileURL(file).href;
  try {
    const options = new LoadingOptions({ fileUri: uri, fetcher: new LocalFileFetcher() });
    options.idx[uri] = raw;
    const loaded: unknown = await loadDocument(raw, uri, options);
    const entries = (Array.isArray(loaded) ? loaded : [loaded]) as Array<{
      save: (top: boolean, base: string, relative: boolean) => unknown;
    }>;
    return {
      accepted: true,
      json: comparable(entries.map((entry) => entry.save(true, '', false))),
    };
  } catch (error) {
    return { accepted: false, reason: String((error as Error).message ?? error) };
  }
}

function loadWithSalad(text: string, file: string): Normalised {
  const { raw } = prepareCwlDocument(text, file);
  const uri = pathToFileURL(file).href;
  const result = normaliseCwlDocument(raw, uri, (url) => readFileSync(fileURLToPath(url), 'utf8'));
  if (!result.ok) return { accepted: false, reason: result.message };
  return { accepted: true, json: comparable(result.processes) };
}

function listDocuments(dir: string, found: string[]): string[] {
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) listDocuments(file, found);
    else if (name.endsWith('.cwl')) found.push(file);
    else if (/\.ya?ml$/.test(name) && CLASS_LINE.test(readFileSync(file, 'utf8'))) found.push(file);
  }
  return found;
}

/** True when the document passes the checks that run before normalisation. */
function isPreparable(text: string, file: string): boolean {
  try {
    prepareCwlDocument(text, file);
    return true;
  } catch {
    return false;
  }
}

async function expectSameResult(file: string): Promise<void> {
  const text = readFileSync(file, 'utf8');
  if (!isPreparable(text, file)) return;
  const reference = await loadWithReference(text, file);
  const salad = loadWithSalad(text, file);
  if (reference.accepted && !salad.accepted) expect.fail(`only salad rejects: ${salad.reason}`);
  if (!reference.accepted && salad.accepted) {
    expect.fail(`only cwl-ts-auto rejects: ${reference.reason}`);
  }
  if (reference.accepted && salad.accepted) expect(salad.json).toStrictEqual(reference.json);
}

const corpora = CORPORA.filter((dir) => existsSync(dir));

describe.skipIf(corpora.length === 0)('salad normaliser on shared corpora', () => {
  const files = corpora.flatMap((dir) => listDocuments(dir, []));

  it('finds documents', () => {
    expect(files.length).toBeGreaterThan(100);
  });

  it.each(files.map((file) => [path.relative(SHARED, file), file]))(
    'matches cwl-ts-auto on %s',
    async (_name, file) => {
      await expectSameResult(file);
    },
  );
});

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cwl-salad-diff-'));
  await writeFile(path.join(dir, 'inputs.yml'), 'msg: {type: string}\n');
  await writeFile(path.join(dir, 'script.js'), 'function twice(x) { return 2 * x; }\n');
  await writeFile(path.join(dir, 'types.yml'), '- {name: Pair, type: record, fields: {a: int}}\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TOOL_HEAD = 'cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n';

/** Written documents: each exercises one rule, accepted or rejected. */
const WRITTEN: Array<[string, string]> = [
  ['map forms', `${TOOL_HEAD}inputs: {b: string, a: {type: int}}\noutputs: {o: stdout}\n`],
  ['type shorthands', `${TOOL_HEAD}inputs: {a: 'File[]?', b: ['null', 'string[]']}\noutputs: []\n`],
  ['import of inputs', `${TOOL_HEAD}inputs: {$import: inputs.yml}\noutputs: []\n`],
  [
    'include of a library',
    `${TOOL_HEAD}requirements:\n  InlineJavascriptRequirement:\n    expressionLib: [{$include: script.js}]\ninputs: []\noutputs: []\n`,
  ],
  [
    'imported schema types',
    `${TOOL_HEAD}requirements:\n  SchemaDefRequirement:\n    types: [{$import: types.yml}]\ninputs: {p: 'types.yml#Pair'}\noutputs: []\n`,
  ],
  [
    'namespaced extension field',
    `${TOOL_HEAD}$namespaces: {ex: 'http://example.com/'}\nex:note: hello\ninputs: []\noutputs: []\n`,
  ],
  ['undeclared prefix', `${TOOL_HEAD}ex:note: hello\ninputs: []\noutputs: []\n`],
  ['unknown field', `${TOOL_HEAD}inptus: []\ninputs: []\noutputs: []\n`],
  ['missing outputs', `${TOOL_HEAD}inputs: []\n`],
  ['wrong value type', `${TOOL_HEAD}inputs: []\noutputs: []\nsuccessCodes: [zero]\n`],
  ['bad class', 'cwlVersion: v1.2\nclass: CommandLineTol\ninputs: []\noutputs: []\n'],
  [
    'enum symbols and record fields',
    `${TOOL_HEAD}inputs:\n  e: {type: {type: enum, symbols: [x, y]}}\n  r: {type: {type: record, name: R, fields: {f: int}}}\noutputs: []\n`,
  ],
  [
    'secondaryFiles with an expression',
    `${TOOL_HEAD}inputs:\n  f: {type: File, secondaryFiles: [{pattern: .bai, required: $(true)}]}\noutputs: []\n`,
  ],
  [
    'workflow with scatter and sources',
    [
      'cwlVersion: v1.2',
      'class: Workflow',
      'requirements: {ScatterFeatureRequirement: {}}',
      'inputs: {xs: "string[]"}',
      'outputs: {o: {type: "File[]", outputSource: s/out}}',
      'steps:',
      '  s:',
      '    run: tool.cwl',
      '    scatter: x',
      '    in: {x: xs}',
      '    out: [out]',
      '',
    ].join('\n'),
  ],
  [
    'hints in map form',
    `${TOOL_HEAD}hints: {DockerRequirement: {dockerPull: alpine}, Other: 3}\ninputs: []\noutputs: []\n`,
  ],
];

describe('salad normaliser on written documents', () => {
  it.each(WRITTEN)('matches cwl-ts-auto on %s', async (name, text) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.cwl`);
    await writeFile(file, text);
    await expectSameResult(file);
  });
});
