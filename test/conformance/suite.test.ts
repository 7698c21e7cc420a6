import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  declaresDockerRequirement,
  isWorkflow,
  loadSuite,
  processClassOf,
  readProcess,
} from './suite.js';

const SUITE_DIR = fileURLToPath(new URL('./fixtures/suite', import.meta.url));

describe('loadSuite', () => {
  const tests = loadSuite(SUITE_DIR);
  const byId = new Map(tests.map((test) => [test.id, test]));

  it('reads every entry in file order', () => {
    expect(tests.map((test) => test.id)).toEqual([
      'file_output',
      'wrong_value',
      'unsupported_feature',
      'unsupported_required',
      'expected_failure',
      'unexpected_success',
      'should_fail_unsupported',
      'not_json',
      'empty_stdout',
      'packed_workflow',
      'imported_test',
      'slow',
    ]);
  });

  it('keeps doc, tags, tool and job', () => {
    expect(byId.get('file_output')).toEqual({
      id: 'file_output',
      doc: 'Runner writes a File whose bytes match the expected checksum and size',
      tags: ['required', 'command_line_tool'],
      tool: 'tests/write-file.cwl',
      job: 'tests/job.json',
      output: {
        out: {
          class: 'File',
          location: 'out.txt',
          checksum: 'sha1$f572d396fae9206628714fb2ce00f72e94f2258f',
          size: 6,
        },
      },
    });
  });

  it('leaves job unset when absent', () => {
    expect(byId.get('wrong_value')).not.toHaveProperty('job');
  });

  it('keeps should_fail and omits missing output', () => {
    const test = byId.get('expected_failure');
    expect(test?.should_fail).toBe(true);
    expect(test).not.toHaveProperty('output');
  });

  it('keeps the tool fragment', () => {
    expect(byId.get('packed_workflow')?.tool).toBe('tests/packed.cwl#main');
  });

  it('rebases imported paths onto the suite folder', () => {
    const test = byId.get('imported_test');
    expect(test?.tool).toBe('tests/sub/imported-tool.cwl');
    expect(test?.job).toBe('tests/job.json');
  });

  it('replaces an imported output', () => {
    expect(byId.get('imported_test')?.output).toEqual({ greeting: 'hello', count: 1 });
  });
});

describe('loadSuite with temporary indexes', () => {
  let dir: string | undefined;

  afterEach(() => {
    if (dir !== undefined) {
      rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    }
  });

  function writeIndex(text: string, name = 'conformance_tests.yaml'): string {
    dir ??= mkdtempSync(path.join(tmpdir(), 'suite-test-'));
    writeFileSync(path.join(dir, name), text);
    return dir;
  }

  it('rejects a duplicate id', () => {
    const suite = writeIndex('- {id: a, tool: t.cwl}\n- {id: a, tool: u.cwl}\n');
    expect(() => loadSuite(suite)).toThrow(/Duplicate conformance test id "a"/);
  });

  it('rejects an entry without id', () => {
    const suite = writeIndex('- {tool: t.cwl}\n');
    expect(() => loadSuite(suite)).toThrow(/Entry 0 .* has no "id"/);
  });

  it('rejects an entry without tool', () => {
    const suite = writeIndex('- {id: a}\n');
    expect(() => loadSuite(suite)).toThrow(/Test "a" .* has no "tool"/);
  });

  it('rejects an import cycle', () => {
    writeIndex('- $import: other.yaml\n', 'other.yaml');
    const suite = writeIndex('- $import: other.yaml\n');
    expect(() => loadSuite(suite)).toThrow(/cycle/);
  });

  it('treats a null job as no job', () => {
    const suite = writeIndex('- {id: a, tool: t.cwl, job: null}\n');
    expect(loadSuite(suite)[0]).not.toHaveProperty('job');
  });

  it('parses a flow list indented less than its key', () => {
    const suite = writeIndex('- id: a\n  tool: t.cwl\n  output:\n    args: [a,\n    b]\n');
    expect(loadSuite(suite)[0]?.output).toEqual({ args: ['a', 'b'] });
  });

  it('reads another index name', () => {
    const suite = writeIndex('- {id: b, tool: t.cwl}\n', 'other.yaml');
    expect(loadSuite(suite, 'other.yaml').map((test) => test.id)).toEqual(['b']);
  });
});

describe('readProcess', () => {
  it('picks the fragment from a $graph', () => {
    expect(readProcess(SUITE_DIR, 'tests/packed.cwl#plain').class).toBe('ExpressionTool');
  });

  it('picks #main without a fragment', () => {
    expect(readProcess(SUITE_DIR, 'tests/packed.cwl').class).toBe('Workflow');
  });

  it('rejects an unknown fragment', () => {
    expect(() => readProcess(SUITE_DIR, 'tests/packed.cwl#nothing')).toThrow(/#nothing not found/);
  });
});

describe('processClassOf and isWorkflow', () => {
  it.each([
    ['tests/write-file.cwl', 'CommandLineTool', false],
    ['tests/exit-one.cwl', 'ExpressionTool', false],
    ['tests/packed.cwl#main', 'Workflow', true],
    ['tests/packed.cwl#count', 'CommandLineTool', false],
    ['tests/workflow-file-step.cwl', 'Workflow', true],
  ])('classifies %s', (tool, processClass, workflow) => {
    expect(processClassOf(SUITE_DIR, tool)).toBe(processClass);
    expect(isWorkflow(SUITE_DIR, tool)).toBe(workflow);
  });
});

describe('declaresDockerRequirement', () => {
  it.each([
    ['a requirements list', 'tests/docker-list.cwl'],
    ['a requirements map', 'tests/docker-map.cwl'],
    ['an imported requirement', 'tests/sub/imported-tool.cwl'],
    ['a packed step run by fragment', 'tests/packed.cwl#main'],
    ['a step run from another file', 'tests/workflow-file-step.cwl'],
    ['an inline step run', 'tests/workflow-inline-step.cwl'],
  ])('is true for %s', (_case, tool) => {
    expect(declaresDockerRequirement(SUITE_DIR, tool)).toBe(true);
  });

  it.each([
    ['a hint only', 'tests/docker-hint.cwl'],
    ['no requirement', 'tests/write-file.cwl'],
    ['a packed process without it', 'tests/packed.cwl#plain'],
    ['steps with hints and a self reference', 'tests/workflow-hint-step.cwl'],
  ])('is false for %s', (_case, tool) => {
    expect(declaresDockerRequirement(SUITE_DIR, tool)).toBe(false);
  });
});
