import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJobFiles } from './job-files.js';

const TOOL = `cwlVersion: v1.2
class: CommandLineTool
baseCommand: 'true'
inputs: []
outputs: []
`;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ctao-job-files-'));
  await writeFile(join(dir, 'tool.cwl'), TOOL);
  await writeFile(join(dir, 'a-local.yaml'), 'label: local\nworkflow: tool.cwl\n');
  await writeFile(join(dir, 'b-absent.yaml'), 'label: absent\nworkflow: ../absent/tool.cwl\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadJobFiles', () => {
  it('keeps only included jobs', async () => {
    const specs = await loadJobFiles(dir, (workflow) => workflow === 'tool.cwl');
    expect(specs.map((spec) => spec.label)).toEqual(['local']);
  });

  it('rejects a missing document', async () => {
    await expect(loadJobFiles(dir)).rejects.toThrow(/absent/);
  });
});
