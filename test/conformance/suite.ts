/**
 * Loading of the CWL conformance suite index and inspection of the documents it names.
 *
 * This module must stay free of process spawning, because an end-to-end test of the pilot
 * imports it as well.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';

/** One entry of the conformance suite index. */
export interface ConformanceTest {
  id: string;
  doc: string;
  tags: string[];
  /** Process document relative to the suite folder, with an optional `#fragment`. */
  tool: string;
  /** Input object file relative to the suite folder, absent when the test has no job. */
  job?: string;
  /** Expected output object, absent for tests that only check failure. */
  output?: unknown;
  should_fail?: boolean;
}

/** Index file that {@link loadSuite} reads when no other name is given. */
export const DEFAULT_INDEX_FILE = 'conformance_tests.yaml';

type YamlObject = Record<string, unknown>;

/**
 * Reads the suite index `dir/indexFile` and every index it pulls in with `- $import: FILE`.
 *
 * An imported index names its tool and job files relative to its own folder, and they come
 * back relative to `dir`. `{$import: FILE}` values inside an expected output are replaced by the
 * parsed file. Throws when an entry has no `id` or `tool`, or when two entries share an id.
 */
export function loadSuite(dir: string, indexFile = DEFAULT_INDEX_FILE): ConformanceTest[] {
  const suiteDir = path.resolve(dir);
  const tests = loadIndex(suiteDir, path.join(suiteDir, indexFile), new Set());

  const seen = new Set<string>();
  for (const test of tests) {
    if (seen.has(test.id)) {
      throw new Error(
        `Duplicate conformance test id "${test.id}" in ${indexFile}. Give each test its own id.`,
      );
    }
    seen.add(test.id);
  }
  return tests;
}

function loadIndex(suiteDir: string, indexPath: string, importing: Set<string>): ConformanceTest[] {
  if (importing.has(indexPath)) {
    throw new Error(`Index ${indexPath} imports itself through a cycle of $import entries.`);
  }
  const entries: unknown = parseYaml(readFileSync(indexPath, 'utf8'));
  if (!Array.isArray(entries)) {
    throw new Error(`Index ${indexPath} is not a YAML list of tests.`);
  }

  const indexDir = path.dirname(indexPath);
  const tests: ConformanceTest[] = [];
  importing.add(indexPath);
  for (const [position, entry] of entries.entries()) {
    if (!isObject(entry)) {
      throw new Error(`Entry ${position} of ${indexPath} is not a mapping.`);
    }
    if (typeof entry.$import === 'string') {
      const imported = path.resolve(indexDir, entry.$import);
      tests.push(...loadIndex(suiteDir, imported, importing));
    } else {
      tests.push(toTest(suiteDir, indexDir, indexPath, entry, position));
    }
  }
  importing.delete(indexPath);
  return tests;
}

function toTest(
  suiteDir: string,
  indexDir: string,
  indexPath: string,
  entry: YamlObject,
  position: number,
): ConformanceTest {
  const { id, tool, job } = entry;
  if (typeof id !== 'string' || id === '') {
    throw new Error(`Entry ${position} of ${indexPath} has no "id". Give every test a unique id.`);
  }
  if (typeof tool !== 'string' || tool === '') {
    throw new Error(`Test "${id}" in ${indexPath} has no "tool". Name its process document.`);
  }
  if (job !== undefined && job !== null && typeof job !== 'string') {
    throw new Error(`Test "${id}" in ${indexPath} has a "job" that is not a path string.`);
  }

  const test: ConformanceTest = {
    id,
    doc: typeof entry.doc === 'string' ? entry.doc : '',
    tags: Array.isArray(entry.tags) ? entry.tags.map(String) : [],
    tool: rebase(suiteDir, indexDir, tool),
  };
  if (typeof job === 'string' && job !== '') {
    test.job = rebase(suiteDir, indexDir, job);
  }
  if ('output' in entry) {
    test.output = resolveImports(entry.output, indexDir);
  }
  if (entry.should_fail === true) {
    test.should_fail = true;
  }
  return test;
}

/** Rewrites a path relative to `fromDir` into one relative to `suiteDir`, keeping `#fragment`. */
function rebase(suiteDir: string, fromDir: string, reference: string): string {
  const hashAt = reference.indexOf('#');
  const filePart = hashAt === -1 ? reference : reference.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : reference.slice(hashAt);
  const relative = path.relative(suiteDir, path.resolve(fromDir, filePart));
  return relative.split(path.sep).join('/') + fragment;
}

function resolveImports(value: unknown, baseDir: string): unknown {
  if (Array.isArray(value)) {
    return value.map((item) => resolveImports(item, baseDir));
  }
  if (!isObject(value)) {
    return value;
  }
  const keys = Object.keys(value);
  if (keys.length === 1 && typeof value.$import === 'string') {
    const importedPath = path.resolve(baseDir, value.$import);
    return resolveImports(
      parseYaml(readFileSync(importedPath, 'utf8')),
      path.dirname(importedPath),
    );
  }
  return Object.fromEntries(keys.map((key) => [key, resolveImports(value[key], baseDir)]));
}

/**
 * Reads the process object that a test's `tool` names, relative to the suite folder `dir`.
 *
 * A packed document (top-level `$graph`) yields the entry whose id matches the `#fragment`, or
 * `#main` without one, or its only entry. Throws when the file cannot be parsed or the fragment
 * matches nothing.
 */
export function readProcess(dir: string, tool: string): YamlObject {
  const hashAt = tool.indexOf('#');
  const file = path.resolve(dir, hashAt === -1 ? tool : tool.slice(0, hashAt));
  const fragment = hashAt === -1 ? undefined : tool.slice(hashAt + 1);
  return selectProcess(readYamlObject(file), fragment, file);
}

function selectProcess(
  document: YamlObject,
  fragment: string | undefined,
  file: string,
): YamlObject {
  const graph = document.$graph;
  if (!Array.isArray(graph)) {
    if (fragment === undefined || idMatches(document.id, fragment)) {
      return document;
    }
    throw new Error(`Fragment #${fragment} not found in ${file}, which has no $graph.`);
  }

  const processId = fragment ?? 'main';
  const match = graph.find((entry) => isObject(entry) && idMatches(entry.id, processId));
  if (isObject(match)) {
    return match;
  }
  if (fragment === undefined && graph.length === 1 && isObject(graph[0])) {
    return graph[0];
  }
  throw new Error(`Process #${processId} not found in the $graph of ${file}.`);
}

function idMatches(id: unknown, fragment: string): boolean {
  return typeof id === 'string' && (id === fragment || id.endsWith(`#${fragment}`));
}

/** Returns the `class` of the process a test's `tool` names, such as `Workflow`. */
export function processClassOf(dir: string, tool: string): string {
  const processClass = readProcess(dir, tool).class;
  return typeof processClass === 'string' ? processClass : '';
}

/** Tells whether the process a test's `tool` names is a Workflow. */
export function isWorkflow(dir: string, tool: string): boolean {
  return processClassOf(dir, tool) === 'Workflow';
}

/**
 * Tells whether the process a test's `tool` names lists DockerRequirement under `requirements`.
 *
 * For a Workflow the check also covers each step's own `requirements` and the process its `run`
 * names, inline or in another file. DockerRequirement under `hints` does not count, because a
 * runner without a container engine may ignore a hint.
 */
export function declaresDockerRequirement(dir: string, tool: string): boolean {
  const hashAt = tool.indexOf('#');
  const file = path.resolve(dir, hashAt === -1 ? tool : tool.slice(0, hashAt));
  const fragment = hashAt === -1 ? '' : tool.slice(hashAt + 1);
  return processNeedsDocker(readProcess(dir, tool), file, new Set([`${file}#${fragment}`]));
}

function processNeedsDocker(process: YamlObject, file: string, visited: Set<string>): boolean {
  if (requirementsListDocker(process.requirements, path.dirname(file))) {
    return true;
  }
  return stepsOf(process).some((step) => {
    if (requirementsListDocker(step.requirements, path.dirname(file))) {
      return true;
    }
    const run = step.run;
    if (isObject(run)) {
      return processNeedsDocker(run, file, visited);
    }
    if (typeof run !== 'string') {
      return false;
    }
    return runTargetNeedsDocker(run, file, visited);
  });
}

function runTargetNeedsDocker(run: string, file: string, visited: Set<string>): boolean {
  const hashAt = run.indexOf('#');
  const runFile =
    hashAt === 0
      ? file
      : path.resolve(path.dirname(file), run.slice(0, hashAt === -1 ? undefined : hashAt));
  const fragment = hashAt === -1 ? undefined : run.slice(hashAt + 1);
  const key = `${runFile}#${fragment ?? ''}`;
  if (visited.has(key)) {
    return false;
  }
  visited.add(key);
  return processNeedsDocker(
    selectProcess(readYamlObject(runFile), fragment, runFile),
    runFile,
    visited,
  );
}

function stepsOf(process: YamlObject): YamlObject[] {
  const steps = process.steps;
  if (Array.isArray(steps)) {
    return steps.filter(isObject);
  }
  if (isObject(steps)) {
    return Object.values(steps).filter(isObject);
  }
  return [];
}

/** Checks a `requirements` list or map, following `$import` entries relative to `baseDir`. */
function requirementsListDocker(requirements: unknown, baseDir: string): boolean {
  if (isObject(requirements)) {
    return 'DockerRequirement' in requirements;
  }
  if (!Array.isArray(requirements)) {
    return false;
  }
  return requirements.some((entry) => {
    if (!isObject(entry)) {
      return false;
    }
    if (typeof entry.$import === 'string') {
      const imported = readYamlObject(path.resolve(baseDir, entry.$import));
      return imported.class === 'DockerRequirement';
    }
    return entry.class === 'DockerRequirement';
  });
}

function readYamlObject(file: string): YamlObject {
  const document: unknown = parseYaml(readFileSync(file, 'utf8'));
  if (!isObject(document)) {
    throw new Error(`${file} is not a YAML or JSON mapping.`);
  }
  return document;
}

/**
 * Parses YAML with js-yaml, because the `yaml` package rejects flow collections indented less
 * than their key, which the suite index uses and PyYAML-based runners accept.
 */
function parseYaml(text: string): unknown {
  return load(text);
}

function isObject(value: unknown): value is YamlObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
