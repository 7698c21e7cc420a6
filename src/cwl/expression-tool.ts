/** Runs an ExpressionTool: one expression over the input object gives the output object. */
import { mkdir, writeFile } from './async-fs.js';
import path from 'node:path';
import { randomHex } from './names.js';
import { CwlExecutionError } from '../errors.js';
import { createEvaluator } from './evaluate.js';
import { localPathOf, setPathFields } from './files.js';
import { asArray, isFileLike, isObject, localName } from './model.js';
import type { CwlFileLike } from './model.js';
import { checkOutputTypes } from './outputs.js';
import { computeResources } from './resources.js';
import { placeEntry } from './staging.js';
import type { ProcessRun } from './process-run.js';
import type { ProcessStatus } from './index.js';
import { noteCodePart } from '../code-parts.js';

/** Evaluates the `expression` of an ExpressionTool and returns its declared outputs. */
export async function runExpressionTool(
  run: ProcessRun,
): Promise<{ status: ProcessStatus; outputs: Record<string, unknown> }> {
  noteCodePart('expression-tool');
  const { process, inputs } = run;
  const preliminary = createEvaluator(process, inputs, undefined);
  const resources = await computeResources(process, preliminary, run.options.runtime);
  const runtime = { outdir: run.jobDir, tmpdir: run.tmpDir, ...resources };
  const evaluator = createEvaluator(process, inputs, runtime);
  const result = await evaluator.evaluate(process.expression, null);
  if (!isObject(result)) {
    throw new CwlExecutionError(
      'CWL_INVALID_OUTPUT',
      `the ExpressionTool expression returned ${JSON.stringify(result)?.slice(0, 200)}, not an object`,
    );
  }

  const outputs: Record<string, unknown> = {};
  for (const parameter of asArray(process.outputs).filter(isObject)) {
    const name = localName(String(parameter.id));
    outputs[name] = await materialise(result[name] ?? null, run.jobDir);
  }
  checkOutputTypes(process, outputs, run.named);
  return { status: 'success', outputs };
}

/** Creates a Directory literal's folder and places its listing in it. */
async function writeDirectoryLiteral(
  directory: CwlFileLike,
  target: string,
  jobDir: string,
): Promise<void> {
  await mkdir(target, { recursive: true });
  for (const entry of asArray(directory.listing)) {
    const placed = (await materialise(entry, jobDir)) as CwlFileLike;
    if (!isFileLike(placed)) continue;
    await placeEntry(
      placed,
      target,
      placed.basename ?? path.basename(placed.path as string),
      false,
    );
  }
}

/** Gives File and Directory values a local path: literals are written into `jobDir`. */
async function materialise(value: unknown, jobDir: string): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((item) => materialise(item, jobDir)));
  if (!isObject(value)) return value;
  if (!isFileLike(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) copy[key] = await materialise(field, jobDir);
    return copy;
  }

  const file: CwlFileLike = { ...value };
  const localPath = localPathOf(file, jobDir);
  if (localPath !== undefined) {
    setPathFields(file, localPath, file.basename ?? path.basename(localPath));
  } else {
    const target = path.join(jobDir, file.basename ?? randomHex(12));
    if (file.class === 'File') await writeFile(target, String(file.contents ?? ''));
    else await writeDirectoryLiteral(file, target, jobDir);
    setPathFields(file, target);
  }
  if (Array.isArray(file.secondaryFiles)) {
    file.secondaryFiles = (await materialise(file.secondaryFiles, jobDir)) as CwlFileLike[];
  }
  return file;
}
