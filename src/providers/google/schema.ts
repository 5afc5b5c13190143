// JSON Schema → Gemini's Schema (a subset of OpenAPI 3.0), for function parameters and response schemas. Pure.

/** Gemini's Schema object, as far as the gateway writes it. */
export interface GeminiSchema {
  type?: 'STRING' | 'NUMBER' | 'INTEGER' | 'BOOLEAN' | 'ARRAY' | 'OBJECT';
  format?: string;
  title?: string;
  description?: string;
  nullable?: boolean;
  enum?: string[];
  properties?: Record<string, GeminiSchema>;
  required?: string[];
  items?: GeminiSchema;
  minItems?: string;
  maxItems?: string;
  minimum?: number;
  maximum?: number;
  anyOf?: GeminiSchema[];
}

const TYPES = { string: 'STRING', number: 'NUMBER', integer: 'INTEGER', boolean: 'BOOLEAN', array: 'ARRAY', object: 'OBJECT' } as const;

/** Keywords that only annotate or tighten a JSON Schema; leaving them out never makes a valid value invalid. */
const IGNORABLE = new Set(['$schema', '$id', '$comment', 'additionalProperties', 'default', 'examples', 'strict', 'readOnly', 'writeOnly', 'pattern', 'minLength', 'maxLength', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'uniqueItems', 'minProperties', 'maxProperties']);

/** Thrown inside the converter when a schema uses something Gemini's subset cannot say. */
class Unsupported extends Error {}

function convert(s: unknown, exact: boolean): GeminiSchema {
  if (s === true || s === undefined) return {};
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new Unsupported('not a schema');
  const out: GeminiSchema = {};
  for (const [k, v] of Object.entries(s as Record<string, unknown>)) {
    switch (k) {
      case 'type': {
        const list = Array.isArray(v) ? v : [v];
        const nonNull = list.filter((t) => t !== 'null');
        if (nonNull.length !== list.length) out.nullable = true;
        if (nonNull.length === 1 && String(nonNull[0]) in TYPES) out.type = TYPES[nonNull[0] as keyof typeof TYPES];
        // A union of types has no Gemini spelling; lenient mode leaves the type open.
        else if (exact) throw new Unsupported(`type ${JSON.stringify(v)}`);
        break;
      }
      case 'nullable':
        if (v === true) out.nullable = true;
        break;
      case 'format':
      case 'title':
      case 'description':
        if (typeof v === 'string') out[k] = v;
        break;
      case 'enum':
        if (!Array.isArray(v)) throw new Unsupported('enum');
        if (v.includes(null)) out.nullable = true;
        out.enum = v.filter((x) => x !== null).map(String);
        break;
      case 'const':
        out.enum = [String(v)];
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, sub]) => [p, convert(sub, exact)]));
        break;
      case 'required':
        if (Array.isArray(v)) out.required = v.map(String);
        break;
      case 'items':
        out.items = convert(v, exact);
        break;
      case 'minItems':
      case 'maxItems':
        // int64 fields travel as strings in Google's JSON mapping.
        out[k] = String(v);
        break;
      case 'minimum':
      case 'maximum':
        if (typeof v === 'number') out[k] = v;
        break;
      case 'anyOf':
        if (!Array.isArray(v)) throw new Unsupported('anyOf');
        out.anyOf = v.map((sub) => convert(sub, exact));
        break;
      default:
        if (exact && !IGNORABLE.has(k)) throw new Unsupported(k);
      // lenient: $ref, oneOf, allOf and the like are dropped; the description still tells the model.
    }
  }
  if (out.enum !== undefined && out.type === undefined) out.type = 'STRING';
  if (out.enum !== undefined && out.type !== 'STRING') {
    // Gemini enums are strings only.
    if (exact) throw new Unsupported('non-string enum');
    delete out.enum;
  }
  return out;
}

/**
 * A response schema Gemini can enforce exactly, or null when the JSON Schema uses something its
 * subset cannot express ($ref, oneOf, allOf, tuple types…) — JSON mode then still applies, unconstrained.
 */
export function responseSchemaOf(schema: unknown): GeminiSchema | null {
  try {
    return convert(schema, true);
  } catch (err) {
    if (err instanceof Unsupported) return null;
    throw err;
  }
}

/**
 * Function parameters for Gemini: unsupported keywords are dropped rather than failing the request,
 * and an object without properties is left out (Gemini rejects an OBJECT with empty properties).
 */
export function parametersOf(schema: Record<string, unknown> | undefined): GeminiSchema | undefined {
  if (schema === undefined) return undefined;
  let out: GeminiSchema;
  try {
    out = convert(schema, false);
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  if (out.type === 'OBJECT' && (out.properties === undefined || Object.keys(out.properties).length === 0)) return undefined;
  return out;
}
