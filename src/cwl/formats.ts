/**
 * File formats: expanding `prefix:name` with `$namespaces`, and checking an input File's
 * `format` against its parameter's, where an ontology from `$schemas` (RDF/XML or Turtle) can
 * make a subclass or an equivalent class acceptable.
 */
import { readFile } from './async-fs.js';
import { CwlValidationError } from '../errors.js';
import type { Evaluator } from './evaluate.js';
import { toLocalPath } from './files.js';
import { asArray, isFileLike, isObject, localName, type CwlObject } from './model.js';
import { resolveType, type CwlType, type NamedTypes } from './schema.js';

/** Returns `format` with a namespace prefix from `$namespaces` expanded to a full IRI. */
export function expandFormat(format: string, namespaces: unknown): string {
  if (!isObject(namespaces)) return format;
  const colon = format.indexOf(':');
  if (colon <= 0) return format;
  const base = namespaces[format.slice(0, colon)];
  return typeof base === 'string' ? base + format.slice(colon + 1) : format;
}

/** Expands the `format` of every File in `value` in place. */
export function expandFileFormats(value: unknown, namespaces: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) expandFileFormats(item, namespaces);
    return;
  }
  if (!isObject(value)) return;
  if (isFileLike(value) && typeof value.format === 'string') {
    value.format = expandFormat(value.format, namespaces);
  }
  for (const field of Object.values(value)) expandFileFormats(field, namespaces);
}

/** Parents of each class: `rdfs:subClassOf` targets, and `owl:equivalentClass` both ways. */
type Ontology = Map<string, Set<string>>;

/**
 * Checks the `format` of each input File against the `format` of its parameter, record field
 * or array. Throws CwlValidationError for a File without a format, or with a format that is
 * neither listed nor a subclass or equivalent of a listed one in the `$schemas` ontologies.
 */
export async function checkInputFormats(
  process: CwlObject,
  inputs: Record<string, unknown>,
  named: NamedTypes,
  evaluator: Evaluator,
  documentDir: string,
): Promise<void> {
  const checker = new FormatChecker(process, named, evaluator, documentDir);
  for (const parameter of asArray(process.inputs).filter(isObject)) {
    const name = localName(String(parameter.id));
    await checker.check(parameter, inputs[name], `inputs.${name}`);
  }
}

class FormatChecker {
  private ontology: Promise<Ontology> | undefined;

  constructor(
    private readonly process: CwlObject,
    private readonly named: NamedTypes,
    private readonly evaluator: Evaluator,
    private readonly documentDir: string,
  ) {}

  async check(parameter: CwlObject, value: unknown, where: string): Promise<void> {
    if (parameter.format !== undefined) {
      const expected = asArray(await this.evaluator.evaluate(parameter.format, null)).map(String);
      for (const file of asArray(value).flat()) {
        if (isFileLike(file) && file.class === 'File') await this.checkFile(file, expected, where);
      }
    }
    const type = resolveType(parameter.type as CwlType, this.named);
    const branches = Array.isArray(type) ? type.map((t) => resolveType(t, this.named)) : [type];
    for (const branch of branches) {
      if (!isObject(branch) || branch.type !== 'record' || !isObject(value)) continue;
      for (const field of asArray(branch.fields).filter(isObject)) {
        const fieldName = localName(String(field.name));
        await this.check(field, value[fieldName], `${where}.${fieldName}`);
      }
    }
  }

  private async checkFile(file: CwlObject, expected: string[], where: string): Promise<void> {
    const format = typeof file.format === 'string' ? file.format : undefined;
    if (format === undefined) {
      throw new CwlValidationError(
        'CWL_INVALID_INPUT',
        `invalid input ${where}: the File ${file.path} has no "format", expected ${expected.join(' or ')}`,
      );
    }
    if (expected.includes(format)) return;
    const ontology = await this.loadOntology();
    if (expected.some((target) => isSubclass(ontology, format, target))) return;
    throw new CwlValidationError(
      'CWL_INVALID_INPUT',
      `invalid input ${where}: format ${format} of ${file.path} is not ${expected.join(' or ')}`,
    );
  }

  private loadOntology(): Promise<Ontology> {
    this.ontology ??= loadOntologies(
      asArray(this.process.$schemas).map((file) => toLocalPath(String(file), this.documentDir)),
    );
    return this.ontology;
  }
}

function isSubclass(ontology: Ontology, format: string, target: string): boolean {
  const seen = new Set<string>([format]);
  const queue = [format];
  while (queue.length > 0) {
    const current = queue.shift() as string;
    if (current === target) return true;
    for (const parent of ontology.get(current) ?? []) {
      if (!seen.has(parent)) {
        seen.add(parent);
        queue.push(parent);
      }
    }
  }
  return false;
}

async function loadOntologies(files: string[]): Promise<Ontology> {
  const ontology: Ontology = new Map();
  const link = (child: string, parent: string): void => {
    const parents = ontology.get(child) ?? new Set<string>();
    parents.add(parent);
    ontology.set(child, parents);
  };

  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const relations = text.trimStart().startsWith('<') ? scanRdfXml(text) : scanTurtle(text);
    for (const { subject, predicate, object } of relations) {
      link(subject, object);
      if (predicate === 'equivalentClass') link(object, subject);
    }
  }
  return ontology;
}

interface Relation {
  subject: string;
  predicate: 'subClassOf' | 'equivalentClass';
  object: string;
}

/**
 * Reads `rdfs:subClassOf` and `owl:equivalentClass` links of `owl:Class` elements from RDF/XML.
 * NOTE: a scan for these two element forms, not an RDF parser; nested class expressions and
 * entity references in IRIs are skipped.
 */
function scanRdfXml(text: string): Relation[] {
  const relations: Relation[] = [];
  const classPattern = /<owl:Class rdf:about="([^"]+)">([\s\S]*?)<\/owl:Class>/g;
  const linkPattern = /<(rdfs:subClassOf|owl:equivalentClass) rdf:resource="([^"&]+)"\s*\/>/g;
  for (const [, subject, body] of text.matchAll(classPattern)) {
    for (const [, element, object] of (body as string).matchAll(linkPattern)) {
      const predicate = element === 'rdfs:subClassOf' ? 'subClassOf' : 'equivalentClass';
      relations.push({ subject: subject as string, predicate, object: object as string });
    }
  }
  return relations;
}

/**
 * Reads `rdfs:subClassOf` and `owl:equivalentClass` triples from Turtle written one triple per
 * statement, with `@prefix` lines.
 */
function scanTurtle(text: string): Relation[] {
  const prefixes = new Map<string, string>();
  for (const [, prefix, iri] of text.matchAll(/@prefix\s+([\w-]*):\s*<([^>]+)>\s*\./g)) {
    prefixes.set(prefix as string, iri as string);
  }
  const expand = (term: string): string => {
    if (term.startsWith('<') && term.endsWith('>')) return term.slice(1, -1);
    const colon = term.indexOf(':');
    const base = prefixes.get(term.slice(0, colon));
    return base === undefined ? term : base + term.slice(colon + 1);
  };

  const relations: Relation[] = [];
  const triplePattern = /(\S+)\s+(rdfs:subClassOf|owl:equivalentClass)\s+(\S+)\s*\./g;
  for (const [, subject, predicate, object] of text.matchAll(triplePattern)) {
    relations.push({
      subject: expand(subject as string),
      predicate: predicate === 'rdfs:subClassOf' ? 'subClassOf' : 'equivalentClass',
      object: expand(object as string),
    });
  }
  return relations;
}
