/**
 * Schema-driven access to the content of a body, for both syntaxes (HCL's `Body.Content`,
 * `PartialContent` and `JustAttributes`).
 *
 * Contracts:
 * - Never throws; every problem is a diagnostic with HCL's wording, in source order.
 * - Native bodies: attributes and blocks are known from the syntax; the schema only checks them.
 * - JSON bodies follow HCL's JSON specification: a property is an attribute or a block as the
 *   schema says; block labels are nested object keys (one level per label name); an array value
 *   means several blocks (or, at the root or a label level, several objects whose properties
 *   are merged); a `null` block value means no block; a property named `"//"` is a comment.
 *   JSON attributes hold `JsonExpression`s; JSON blocks' ranges point at their property names.
 * - `remain` (from `bodyPartialContent`) is the same body without the schema's attribute names
 *   and block types, so a later `bodyContent(remain, otherSchema)` reports only what is left.
 */
import { errorDiag, rangeBetween, rangeString, type Diagnostic, type Range } from '../diagnostics.js';
import type { Attribute, Block, Body, JsonBody, JsonScope, JsonValue, NativeBody } from './ast.js';
import { nameSuggestion } from './parser.js';

export interface BodySchema {
  attributes: { name: string; required?: boolean }[];
  blocks: { type: string; labelNames: string[] }[];
}

export interface BodyContent {
  attributes: Map<string, Attribute>;
  blocks: Block[];
}

/** The attributes and blocks the schema names; anything else in the body is an error. */
export function bodyContent(body: Body, schema: BodySchema): { content: BodyContent; diagnostics: Diagnostic[] } {
  const { content, remain, diagnostics } = bodyPartialContent(body, schema);
  if (remain.kind === 'native') {
    diagnostics.push(...nativeLeftovers(remain, schema, content));
  } else {
    diagnostics.push(...jsonLeftovers(remain, schema, content));
  }
  return { content, diagnostics };
}

/** The attributes and blocks the schema names, and the rest of the body. */
export function bodyPartialContent(body: Body, schema: BodySchema): { content: BodyContent; remain: Body; diagnostics: Diagnostic[] } {
  return body.kind === 'native' ? nativePartialContent(body, schema) : jsonPartialContent(body, schema);
}

/** Every attribute of a body that may hold only attributes (e.g. `locals`). */
export function bodyJustAttributes(body: Body): { attributes: Map<string, Attribute>; diagnostics: Diagnostic[] } {
  const attributes = new Map<string, Attribute>();
  const diagnostics: Diagnostic[] = [];
  if (body.kind === 'native') {
    if (body.blocks.length > 0) {
      const example = body.blocks[0];
      diagnostics.push(errorDiag(`Unexpected "${example.type}" block`, 'Blocks are not allowed here.', example.typeRange));
    }
    for (const attr of body.attributes) attributes.set(attr.name, attr);
    return { attributes, diagnostics };
  }
  const obj = body.value;
  if (obj.kind !== 'object') {
    diagnostics.push(errorDiag('Incorrect JSON value type', 'A JSON object is required here, setting the arguments for this block.', obj.range));
    return { attributes, diagnostics };
  }
  for (const prop of obj.props) {
    if (prop.name === '//') continue;
    const existing = attributes.get(prop.name);
    if (existing) {
      diagnostics.push(errorDiag('Duplicate attribute definition', `The argument "${prop.name}" was already set at ${rangeString(existing.range)}.`, prop.nameRange));
      continue;
    }
    attributes.set(prop.name, jsonAttribute(obj.scope ? { ...prop, scope: obj.scope } : prop));
  }
  return { attributes, diagnostics };
}

/** Where to point a "missing argument" diagnostic in a body. */
export function missingItemRange(body: Body): Range {
  if (body.kind === 'native') {
    return { filename: body.range.filename, start: body.range.start, end: body.range.start };
  }
  const v = body.value;
  if (v.kind === 'object') {
    const end = v.range.end;
    return { filename: v.range.filename, start: { ...end, column: end.column - 1, byte: end.byte - 1 }, end };
  }
  return { filename: v.range.filename, start: v.range.start, end: { ...v.range.start, column: v.range.start.column + 1, byte: v.range.start.byte + 1 } };
}

function missingRequired(body: Body, name: string): Diagnostic {
  return errorDiag('Missing required argument', `The argument "${name}" is required, but no definition was found.`, missingItemRange(body));
}

// ---- native syntax ---------------------------------------------------------------------------

function nativePartialContent(body: NativeBody, schema: BodySchema): { content: BodyContent; remain: Body; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const attributes = new Map<string, Attribute>();
  const blocks: Block[] = [];
  const byName = new Map(body.attributes.map((a) => [a.name, a]));
  for (const attrS of schema.attributes) {
    const attr = byName.get(attrS.name);
    if (attr === undefined) {
      if (attrS.required) diagnostics.push(missingRequired(body, attrS.name));
      continue;
    }
    attributes.set(attrS.name, attr);
  }
  const blockSchemas = new Map(schema.blocks.map((b) => [b.type, b]));
  for (const attr of body.attributes) {
    if (!attributes.has(attr.name) && blockSchemas.has(attr.name)) {
      diagnostics.push(errorDiag('Unsupported argument', `An argument named "${attr.name}" is not expected here. Did you mean to define a block of type "${attr.name}"?`, attr.nameRange));
    }
  }
  const attrNames = new Set(schema.attributes.map((a) => a.name));
  for (const block of body.blocks) {
    const blockS = blockSchemas.get(block.type);
    if (blockS === undefined) {
      if (attrNames.has(block.type)) {
        diagnostics.push(errorDiag('Unsupported block type', `Blocks of type "${block.type}" are not expected here. Did you mean to define argument "${block.type}"? If so, use the equals sign to assign it a value.`, block.typeRange));
      }
      continue;
    }
    const problem = labelProblem(block, blockS.labelNames);
    if (problem) {
      diagnostics.push(problem);
      continue;
    }
    blocks.push(block);
  }
  const remain: NativeBody = {
    ...body,
    attributes: body.attributes.filter((a) => !attrNames.has(a.name)),
    blocks: body.blocks.filter((b) => !blockSchemas.has(b.type)),
  };
  return { content: { attributes, blocks }, remain, diagnostics };
}

function labelProblem(block: Block, labelNames: string[]): Diagnostic | undefined {
  const name = block.type;
  if (block.labels.length > labelNames.length) {
    if (labelNames.length === 0) {
      return errorDiag(`Extraneous label for ${name}`, `No labels are expected for ${name} blocks.`, block.labelRanges[0]);
    }
    return errorDiag(`Extraneous label for ${name}`, `Only ${labelNames.length} labels (${labelNames.join(', ')}) are expected for ${name} blocks.`, block.labelRanges[labelNames.length]);
  }
  if (block.labels.length < labelNames.length) {
    const at = block.labelRanges.length > 0 ? block.labelRanges[block.labelRanges.length - 1] : block.typeRange;
    return errorDiag(`Missing ${labelNames[block.labels.length]} for ${name}`, `All ${name} blocks must have ${labelNames.length} labels (${labelNames.join(', ')}).`, at);
  }
  return undefined;
}

function nativeLeftovers(remain: NativeBody, schema: BodySchema, content: BodyContent): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const blockTypes = schema.blocks.map((b) => b.type);
  const attrNames = schema.attributes.map((a) => a.name);
  const unusedAttrNames = attrNames.filter((n) => !content.attributes.has(n));
  for (const attr of remain.attributes) {
    if (blockTypes.includes(attr.name)) continue; // reported by the partial content
    const suggestion = nameSuggestion(attr.name, unusedAttrNames);
    diagnostics.push(errorDiag('Unsupported argument', `An argument named "${attr.name}" is not expected here.${suggestion ? ` Did you mean "${suggestion}"?` : ''}`, attr.nameRange));
  }
  for (const block of remain.blocks) {
    if (attrNames.includes(block.type)) continue; // reported by the partial content
    const suggestion = nameSuggestion(block.type, blockTypes);
    diagnostics.push(errorDiag('Unsupported block type', `Blocks of type "${block.type}" are not expected here.${suggestion ? ` Did you mean "${suggestion}"?` : ''}`, block.typeRange));
  }
  return diagnostics;
}

// ---- JSON syntax -----------------------------------------------------------------------------

/** A property, with the scope of the object it belongs to (see `JsonScope`). */
type JsonProp = { name: string; nameRange: Range; value: JsonValue; scope?: JsonScope };

/** A value given the scope of the object it sits in (objects keep their own entries on top). */
function scoped(v: JsonValue, scope: JsonScope | undefined): JsonValue {
  if (!scope) return v;
  if (v.kind === 'object') return { ...v, scope: v.scope ? new Map([...scope, ...v.scope]) : scope };
  if (v.kind === 'array') return { ...v, items: v.items.map((i) => scoped(i, scope)) };
  return v;
}

function jsonAttribute(prop: JsonProp): Attribute {
  return {
    name: prop.name,
    expr: { kind: 'json', value: prop.value, range: prop.value.range, ...(prop.scope ? { scope: prop.scope } : {}) },
    range: rangeBetween(prop.nameRange, prop.value.range),
    nameRange: prop.nameRange,
  };
}

/** The properties of an object, or of every object in an array (HCL's `collectDeepAttrs`). */
function collectProps(v: JsonValue, labelName: string | undefined, diagnostics: Diagnostic[]): JsonProp[] {
  if (v.kind === 'null') return [];
  if (v.kind === 'object') return v.scope ? v.props.map((p) => ({ ...p, scope: v.scope })) : v.props;
  if (v.kind === 'array') {
    const props: JsonProp[] = [];
    for (const item of v.items) {
      if (item.kind === 'object') {
        props.push(...(item.scope ? item.props.map((p) => ({ ...p, scope: item.scope })) : item.props));
      } else {
        diagnostics.push(errorDiag('Incorrect JSON value type', labelName !== undefined
          ? `A JSON object is required here, to specify ${labelName} labels for this block.`
          : 'A JSON object is required here, to define arguments and child blocks.', item.range));
      }
    }
    return props;
  }
  diagnostics.push(errorDiag('Incorrect JSON value type', labelName !== undefined
    ? `Either a JSON object or JSON array of objects is required here, to specify ${labelName} labels for this block.`
    : 'Either a JSON object or JSON array of objects is required here, to define arguments and child blocks.', v.range));
  return [];
}

function jsonPartialContent(body: JsonBody, schema: BodySchema): { content: BodyContent; remain: Body; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const attributes = new Map<string, Attribute>();
  const blocks: Block[] = [];
  const attrNames = new Set(schema.attributes.map((a) => a.name));
  const blockSchemas = new Map(schema.blocks.map((b) => [b.type, b]));
  for (const prop of collectProps(body.value, undefined, diagnostics)) {
    if (attrNames.has(prop.name)) {
      const existing = attributes.get(prop.name);
      if (existing) {
        diagnostics.push(errorDiag('Duplicate argument', `The argument "${prop.name}" was already set at ${rangeString(existing.range)}.`, prop.nameRange));
        continue;
      }
      attributes.set(prop.name, jsonAttribute(prop));
      continue;
    }
    const blockS = blockSchemas.get(prop.name);
    if (blockS) unpackJsonBlock(scoped(prop.value, prop.scope), prop.name, prop.nameRange, blockS.labelNames, [], [], blocks, diagnostics);
  }
  for (const attrS of schema.attributes) {
    if (attrS.required && !attributes.has(attrS.name)) diagnostics.push(missingRequired(body, attrS.name));
  }
  const hidden = new Set([...attrNames, ...blockSchemas.keys()]);
  const remain: JsonBody = { ...body, value: withoutProps(body.value, hidden) };
  return { content: { attributes, blocks }, remain, diagnostics };
}

/** Turns a block property's value into blocks, one label level per label name. */
function unpackJsonBlock(v: JsonValue, type: string, typeRange: Range, labelsLeft: string[], labels: string[], labelRanges: Range[], out: Block[], diagnostics: Diagnostic[]): void {
  if (labelsLeft.length > 0) {
    const labelName = labelsLeft[0];
    const props = collectProps(v, labelName, diagnostics);
    if (props.length === 0 && (v.kind === 'object' || v.kind === 'array')) {
      diagnostics.push(errorDiag('Missing block label', `At least one object property is required, whose name represents the ${type} block's ${labelName}.`, v.range));
      return;
    }
    for (const p of props) {
      unpackJsonBlock(scoped(p.value, p.scope), type, typeRange, labelsLeft.slice(1), [...labels, p.name], [...labelRanges, p.nameRange], out, diagnostics);
    }
    return;
  }
  const range = rangeBetween(typeRange, labelRanges.length > 0 ? labelRanges[labelRanges.length - 1] : typeRange);
  const block = (value: JsonValue): Block => ({
    type, labels, body: { kind: 'json', value, range: value.range }, range, typeRange, labelRanges,
  });
  if (v.kind === 'null') return;
  if (v.kind === 'object') {
    out.push(block(v));
  } else if (v.kind === 'array') {
    for (const item of v.items) out.push(block(item));
  } else {
    diagnostics.push(errorDiag('Incorrect JSON value type', `Either a JSON object or a JSON array is required, representing the contents of one or more "${type}" blocks.`, v.range));
  }
}

/** The value without the named properties (in an object, or in each object of an array). */
function withoutProps(v: JsonValue, hidden: ReadonlySet<string>): JsonValue {
  if (v.kind === 'object') return { ...v, props: v.props.filter((p) => !hidden.has(p.name)) };
  if (v.kind === 'array') return { ...v, items: v.items.map((item) => (item.kind === 'object' ? withoutProps(item, hidden) : item)) };
  return v;
}

function jsonLeftovers(remain: JsonBody, schema: BodySchema, content: BodyContent): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const candidates = [...schema.attributes.map((a) => a.name).filter((n) => !content.attributes.has(n)), ...schema.blocks.map((b) => b.type)];
  // Type errors in the body were reported by the partial content already.
  for (const prop of collectProps(remain.value, undefined, [])) {
    if (prop.name === '//') continue;
    const suggestion = nameSuggestion(prop.name, candidates);
    diagnostics.push(errorDiag('Extraneous JSON object property', `No argument or block type is named "${prop.name}".${suggestion ? ` Did you mean "${suggestion}"?` : ''}`, prop.nameRange));
  }
  return diagnostics;
}
