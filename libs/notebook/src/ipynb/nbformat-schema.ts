import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import nbformatSchema from './schema/nbformat.v4.5.schema.json' with { type: 'json' };
import { cloneJson, isJsonObject, type JsonObject } from './json.js';

/** One thing wrong with a document: where (a JSON Pointer into it, `""` for the root) and what. */
export interface Problem {
  path: string;
  message: string;
}

/** Which rules apply: `current` for nbformat 4.0-4.5, `future` for a newer 4.x minor. */
export type SchemaMode = 'current' | 'future';

const CELL_TYPES = ['raw', 'markdown', 'code'];
const OUTPUT_TYPES = ['execute_result', 'display_data', 'stream', 'error'];

/**
 * Rewrites a `oneOf` over definitions into a discriminated `allOf` of `if/then` on `key`, so that a
 * bad cell reports the problems of its own type only. Equivalent: each branch requires its own
 * `key` value, so at most one branch can match.
 */
function discriminated(key: string, branches: Record<string, string>, unrecognized: string | null): JsonObject {
  const known = Object.keys(branches);
  const rules: JsonObject[] = known.map((value) => ({
    if: { properties: { [key]: { const: value } } },
    then: { $ref: `#/definitions/${branches[value]}` },
  }));
  if (unrecognized) rules.push({ if: { properties: { [key]: { not: { enum: known } } } }, then: { $ref: `#/definitions/${unrecognized}` } });
  return {
    type: 'object',
    required: [key],
    properties: { [key]: unrecognized ? { type: 'string' } : { enum: known } },
    allOf: rules,
  };
}

function relaxAdditionalProperties(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(relaxAdditionalProperties);
  if (!isJsonObject(node)) return;
  if (node.additionalProperties === false) node.additionalProperties = true;
  Object.values(node).forEach(relaxAdditionalProperties);
}

/**
 * The nbformat 4.5 schema adapted for ajv (draft-07): `$schema` (draft-04) dropped, as the keywords
 * it uses mean the same in draft-07; `nbformat_minor` allowed from 0, as 4.0-4.4 files are checked
 * once their cells have ids; cells and outputs discriminated by type. In `future` mode, as nbformat
 * does for a newer minor, unknown properties and unknown cell and output types are allowed.
 */
function adaptedSchema(mode: SchemaMode): JsonObject {
  const schema = cloneJson(nbformatSchema) as JsonObject & { definitions: JsonObject; properties: JsonObject };
  delete schema.$schema;
  (schema.properties.nbformat_minor as JsonObject).minimum = 0;
  const future = mode === 'future';
  schema.definitions.cell = discriminated(
    'cell_type',
    Object.fromEntries(CELL_TYPES.map((type) => [type, `${type}_cell`])),
    future ? 'unrecognized_cell' : null,
  );
  schema.definitions.output = discriminated(
    'output_type',
    Object.fromEntries(OUTPUT_TYPES.map((type) => [type, type])),
    future ? 'unrecognized_output' : null,
  );
  if (future) relaxAdditionalProperties(schema);
  return { ...schema, $id: `nbformat-${mode}` };
}

const ajv = new Ajv({ strict: false, allErrors: true });
for (const mode of ['current', 'future'] as const) ajv.addSchema(adaptedSchema(mode));

function validator(mode: SchemaMode, definition?: string): ValidateFunction {
  const ref = definition ? `nbformat-${mode}#/definitions/${definition}` : `nbformat-${mode}`;
  const validate = ajv.getSchema(ref);
  if (!validate) throw new Error(`no nbformat schema at ${ref}`);
  return validate;
}

const escapePointer = (segment: string): string => segment.replaceAll('~', '~0').replaceAll('/', '~1');

function toProblem(error: ErrorObject, base: string): Problem {
  const at = base + error.instancePath;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return { path: `${at}/${escapePointer(String(params.missingProperty))}`, message: `required property '${String(params.missingProperty)}' is missing` };
    case 'additionalProperties':
      return { path: `${at}/${escapePointer(String(params.additionalProperty))}`, message: `unknown property '${String(params.additionalProperty)}' is not allowed` };
    case 'enum':
      return { path: at, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path: at, message: error.message ?? `fails ${error.keyword}` };
  }
}

/** Validates a JSON value against the whole notebook schema, or one of its definitions (`cell`, `output`). */
export function schemaProblems(value: unknown, mode: SchemaMode, definition?: string, basePath = ''): Problem[] {
  const validate = validator(mode, definition);
  if (validate(value)) return [];
  const seen = new Set<string>();
  const problems: Problem[] = [];
  // `if` errors only repeat that a `then` branch failed; its own errors say why.
  for (const error of validate.errors ?? []) {
    if (error.keyword === 'if') continue;
    const problem = toProblem(error, basePath);
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}
