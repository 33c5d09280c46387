// Checks PATCH bodies and action parameters before anything is changed; every problem becomes a
// Base registry message, and all problems of one request are reported together.
import { baseMessage, type ExtendedInfo, RedfishError } from './errors.ts';

export interface FieldSpec {
  /** 'array' is an array of strings (each checked against `enum` when given). */
  type: 'string' | 'boolean' | 'integer' | 'object' | 'array';
  enum?: readonly string[];
  nullable?: boolean;
  min?: number;
  max?: number;
  /** Returns a reason when a string's format is not acceptable. */
  format?: (value: string) => string | undefined;
  /** Nested writable properties (type 'object'). */
  fields?: Record<string, FieldSpec>;
  required?: boolean;
}

type Problem = 'type' | 'enum' | 'range' | 'format';

function problemOf(spec: FieldSpec, value: unknown): Problem | undefined {
  if (value === null) return spec.nullable ? undefined : 'type';
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return 'type';
      if (spec.enum && !spec.enum.includes(value)) return 'enum';
      if (spec.format?.(value) !== undefined) return 'format';
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'type';
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'type';
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) return 'range';
      return undefined;
    case 'object':
      return typeof value === 'object' && !Array.isArray(value) ? undefined : 'type';
    case 'array':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return 'type';
      return spec.enum && value.some((v) => !spec.enum?.includes(v as string)) ? 'enum' : undefined;
  }
}

const isAnnotation = (key: string) => key.includes('@');

function walkPatch(
  body: Record<string, unknown>,
  writable: Record<string, FieldSpec>,
  current: Record<string, unknown> | undefined,
  path: string,
  out: ExtendedInfo[],
): void {
  for (const [key, value] of Object.entries(body)) {
    if (isAnnotation(key)) continue; // @odata.* and other annotations are not properties to write
    const pointer = `#${path}/${key}`;
    const name = `${path}/${key}`.slice(1);
    const spec = writable[key];
    if (!spec) {
      out.push(
        current && key in current
          ? baseMessage('PropertyNotWritable', [name], pointer)
          : baseMessage('PropertyUnknown', [name], pointer),
      );
      continue;
    }
    const problem = problemOf(spec, value);
    if (problem === 'type') out.push(baseMessage('PropertyValueTypeError', [printable(value), name], pointer));
    else if (problem === 'enum') out.push(baseMessage('PropertyValueNotInList', [printable(value), name], pointer));
    else if (problem === 'range') out.push(baseMessage('PropertyValueOutOfRange', [printable(value), name], pointer));
    else if (problem === 'format') out.push(baseMessage('PropertyValueFormatError', [printable(value), name], pointer));
    else if (spec.type === 'object' && value !== null) {
      const child = current?.[key];
      walkPatch(
        value as Record<string, unknown>,
        spec.fields ?? {},
        child && typeof child === 'object' ? (child as Record<string, unknown>) : undefined,
        `${path}/${key}`,
        out,
      );
    }
  }
}

/** Validates a PATCH body against the writable properties; `current` tells read-only from unknown ones. */
export function checkPatch(
  body: Record<string, unknown>,
  writable: Record<string, FieldSpec>,
  current: Record<string, unknown>,
): void {
  const out: ExtendedInfo[] = [];
  walkPatch(body, writable, current, '', out);
  if (out.length > 0) throw new RedfishError(400, out);
  if (Object.keys(body).filter((k) => !isAnnotation(k)).length === 0)
    throw new RedfishError(400, baseMessage('NoOperation'));
}

/** Validates a POST body that creates a resource: like PATCH, plus required properties. */
export function checkCreate(body: Record<string, unknown>, fields: Record<string, FieldSpec>): void {
  const out: ExtendedInfo[] = [];
  walkPatch(body, fields, undefined, '', out);
  for (const [key, spec] of Object.entries(fields))
    if (spec.required && !(key in body)) out.push(baseMessage('PropertyMissing', [key], `#/${key}`));
  if (out.length > 0) throw new RedfishError(400, out);
}

/** Validates action parameters; returns the body (empty object when there was none). */
export function checkAction(
  action: string,
  body: Record<string, unknown> | undefined,
  params: Record<string, FieldSpec>,
): Record<string, unknown> {
  const given = body ?? {};
  const out: ExtendedInfo[] = [];
  for (const [key, value] of Object.entries(given)) {
    if (isAnnotation(key)) continue;
    const spec = params[key];
    const pointer = `#/${key}`;
    if (!spec) {
      out.push(baseMessage('ActionParameterUnknown', [action, key], pointer));
      continue;
    }
    const problem = problemOf(spec, value);
    const args = [printable(value), key, action];
    if (problem === 'type') out.push(baseMessage('ActionParameterValueTypeError', args, pointer));
    else if (problem === 'enum') out.push(baseMessage('ActionParameterValueNotInList', args, pointer));
    else if (problem === 'format' || problem === 'range')
      out.push(baseMessage('ActionParameterValueFormatError', args, pointer));
  }
  for (const [key, spec] of Object.entries(params))
    if (spec.required && !(key in given)) out.push(baseMessage('ActionParameterMissing', [action, key], `#/${key}`));
  if (out.length > 0) throw new RedfishError(400, out);
  return given;
}

function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
