/**
 * The vocabulary of CWL v1.2: every short term a document may write in place of a full IRI
 * (type names, class names, enum symbols and versions), and the namespace each belongs to.
 */

const XSD = 'http://www.w3.org/2001/XMLSchema#';
const SALAD = 'https://w3id.org/cwl/salad#';
const CWL = 'https://w3id.org/cwl/cwl#';

const XSD_TERMS = 'boolean double float int long string';

const SALAD_TERMS =
  'Any ArraySchema Documented EnumSchema PrimitiveType RecordField RecordSchema array enum null record';

const CWL_TERMS = [
  'CWLType CWLVersion CommandInputArraySchema CommandInputEnumSchema CommandInputParameter',
  'CommandInputRecordField CommandInputRecordSchema CommandInputSchema CommandLineBindable',
  'CommandLineBinding CommandLineTool CommandOutputArraySchema CommandOutputBinding',
  'CommandOutputEnumSchema CommandOutputParameter CommandOutputRecordField',
  'CommandOutputRecordSchema Directory Dirent DockerRequirement EnvVarRequirement EnvironmentDef',
  'Expression ExpressionPlaceholder ExpressionTool ExpressionToolOutputParameter FieldBase File',
  'IOSchema Identified InitialWorkDirRequirement InlineJavascriptRequirement',
  'InplaceUpdateRequirement InputArraySchema InputBinding InputEnumSchema InputFormat',
  'InputParameter InputRecordField InputRecordSchema InputSchema Labeled LinkMergeMethod',
  'LoadContents LoadListingEnum LoadListingRequirement MultipleInputFeatureRequirement',
  'NetworkAccess Operation OperationInputParameter OperationOutputParameter OutputArraySchema',
  'OutputEnumSchema OutputFormat OutputParameter OutputRecordField OutputRecordSchema',
  'OutputSchema Parameter PickValueMethod Process ProcessRequirement ResourceRequirement',
  'ScatterFeatureRequirement ScatterMethod SchemaDefRequirement SecondaryFileSchema',
  'ShellCommandRequirement Sink SoftwarePackage SoftwareRequirement',
  'StepInputExpressionRequirement SubworkflowFeatureRequirement ToolTimeLimit WorkReuse Workflow',
  'WorkflowInputParameter WorkflowOutputParameter WorkflowStep WorkflowStepInput',
  'WorkflowStepOutput stderr stdin stdout',
].join(' ');

/** Symbols of the CWL enums, which the vocabulary names as `Enum/symbol`. */
export const ENUM_SYMBOLS = {
  LoadListingEnum: ['no_listing', 'shallow_listing', 'deep_listing'],
  ScatterMethod: ['dotproduct', 'nested_crossproduct', 'flat_crossproduct'],
  LinkMergeMethod: ['merge_nested', 'merge_flattened'],
  PickValueMethod: ['first_non_null', 'the_only_non_null', 'all_non_null'],
} as const;

/** Every `cwlVersion` value the CWL v1.2 schema lists, drafts included. */
export const CWL_VERSIONS = [
  'draft-2',
  'draft-3.dev1',
  'draft-3.dev2',
  'draft-3.dev3',
  'draft-3.dev4',
  'draft-3.dev5',
  'draft-3',
  'draft-4.dev1',
  'draft-4.dev2',
  'draft-4.dev3',
  'v1.0.dev4',
  'v1.0',
  'v1.1.0-dev1',
  'v1.1',
  'v1.2.0-dev1',
  'v1.2.0-dev2',
  'v1.2.0-dev3',
  'v1.2.0-dev4',
  'v1.2.0-dev5',
  'v1.2',
];

function buildVocabulary(): Map<string, string> {
  const vocabulary = new Map<string, string>();
  for (const term of XSD_TERMS.split(' ')) vocabulary.set(term, XSD + term);
  for (const term of SALAD_TERMS.split(' ')) vocabulary.set(term, SALAD + term);
  for (const term of CWL_TERMS.split(' ')) vocabulary.set(term, CWL + term);
  for (const version of CWL_VERSIONS) vocabulary.set(version, CWL + version);
  for (const [enumName, symbols] of Object.entries(ENUM_SYMBOLS)) {
    for (const symbol of symbols) vocabulary.set(symbol, `${CWL}${enumName}/${symbol}`);
  }
  return vocabulary;
}

/** Short terms mapped to full IRIs. */
export const VOCABULARY: ReadonlyMap<string, string> = buildVocabulary();

/** Full IRIs mapped back to short terms. */
export const REVERSE_VOCABULARY: ReadonlyMap<string, string> = new Map(
  [...VOCABULARY].map(([term, iri]) => [iri, term]),
);
