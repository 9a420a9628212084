/**
 * A plugin's ConfigSpec: the gob-encoded `hcldec.ObjectSpec` it returns from `ConfigSpec`, decoded
 * into `PluginSpec` (every detail kept: cty types, block nesting, limits), and reduced to our own
 * `ConfigSpec` so that `validate` checks bodies before a plugin runs.
 *
 * Contracts:
 * - Spec kinds are recognised by the suffix of their registered Go type name (`*hcldec.AttrSpec`,
 *   `…/hcl/v2/hcldec.BlockListSpec`…), so vendored builds decode too. An unknown kind is kept as
 *   `{ kind: 'unknown' }` and accepts anything, rather than failing the whole spec.
 * - `impliedType` is the object type Packer decodes the body to; `configJson` renders a
 *   configuration in that type as cty JSON (`{"value", "type"}`), the form plugins expect.
 */
import type { ConfigSpec } from '../sdk/component.js';
import { conformValue, decodeCtyType, typeJson, type CtyType } from './cty.js';
import { GobEncoded, GobInterface, decodeGob } from './gob.js';

export type SpecNode =
  | { kind: 'attr'; name: string; type: CtyType; required: boolean }
  | { kind: 'block'; typeName: string; required: boolean; nested: SpecNode }
  | { kind: 'blockList'; typeName: string; minItems: number; maxItems: number; nested: SpecNode }
  | { kind: 'blockAttrs'; typeName: string; elementType: CtyType; required: boolean }
  | { kind: 'object'; fields: Record<string, SpecNode> }
  | { kind: 'unknown'; goType: string };

export type PluginSpec = Extract<SpecNode, { kind: 'object' }>;

function rec(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !(v instanceof Map) ? (v as Record<string, unknown>) : {};
}

function ctyOf(v: unknown): CtyType {
  return v instanceof GobEncoded ? decodeCtyType(v.bytes) : { kind: 'dynamic' };
}

function objectFields(m: unknown): Record<string, SpecNode> {
  const fields: Record<string, SpecNode> = {};
  if (m instanceof Map) for (const [k, v] of m) fields[String(k)] = specNode(v);
  return fields;
}

function specNode(v: unknown): SpecNode {
  if (!(v instanceof GobInterface)) return { kind: 'unknown', goType: 'nil' };
  const name = v.typeName.replace(/^\*/, '');
  const s = rec(v.value);
  const suffix = name.slice(name.lastIndexOf('.') + 1);
  switch (suffix) {
    case 'AttrSpec': return { kind: 'attr', name: String(s.Name ?? ''), type: ctyOf(s.Type), required: s.Required === true };
    case 'BlockSpec': return { kind: 'block', typeName: String(s.TypeName ?? ''), required: s.Required === true, nested: specNode(s.Nested) };
    case 'BlockListSpec': return { kind: 'blockList', typeName: String(s.TypeName ?? ''), minItems: Number(s.MinItems ?? 0), maxItems: Number(s.MaxItems ?? 0), nested: specNode(s.Nested) };
    case 'BlockAttrsSpec': return { kind: 'blockAttrs', typeName: String(s.TypeName ?? ''), elementType: ctyOf(s.ElementType), required: s.Required === true };
    case 'ObjectSpec': return { kind: 'object', fields: objectFields(v.value) };
    default: return { kind: 'unknown', goType: name };
  }
}

/** Decodes the bytes of a `ConfigSpec` reply. */
export function decodeConfigSpec(bytes: Buffer): PluginSpec {
  const top = decodeGob(bytes);
  if (top instanceof Map) return { kind: 'object', fields: objectFields(top) };
  const node = specNode(top);
  if (node.kind !== 'object') throw new Error(`the plugin's ConfigSpec is a ${node.kind}, not an object spec`);
  return node;
}

/** The object type Packer decodes a body into with this spec. */
export function impliedType(node: SpecNode): CtyType {
  switch (node.kind) {
    case 'attr': return node.type;
    case 'block': return impliedType(node.nested);
    case 'blockList': return { kind: 'list', elem: impliedType(node.nested) };
    case 'blockAttrs': return { kind: 'map', elem: node.elementType };
    case 'object': return { kind: 'object', attrs: Object.fromEntries(Object.entries(node.fields).map(([k, f]) => [k, impliedType(f)])) };
    case 'unknown': return { kind: 'dynamic' };
  }
}

type AttrType = ConfigSpec['attributes'][string]['type'];

function attrType(t: CtyType): AttrType {
  if (t.kind === 'string' || t.kind === 'number' || t.kind === 'bool') return t.kind;
  if ((t.kind === 'list' || t.kind === 'map') && t.elem.kind === 'string') return `${t.kind}(string)`;
  return 'any';
}

/** Our `ConfigSpec` for `validate` (types it cannot express become `any`). */
export function toConfigSpec(spec: PluginSpec): ConfigSpec {
  const out: ConfigSpec = { attributes: {} };
  for (const [key, node] of Object.entries(spec.fields)) {
    if (node.kind === 'attr') out.attributes[node.name || key] = { type: attrType(node.type), ...(node.required ? { required: true } : {}) };
    else if (node.kind === 'blockAttrs') out.attributes[node.typeName || key] = { type: node.elementType.kind === 'string' ? 'map(string)' : 'any' };
    else if ((node.kind === 'block' || node.kind === 'blockList') && node.nested.kind === 'object') {
      out.blocks ??= {};
      out.blocks[node.typeName || key] = { nesting: node.kind === 'block' ? 'single' : 'list', spec: toConfigSpec(node.nested) };
    } else out.attributes[key] = { type: 'any' };
  }
  return out;
}

/**
 * Renders `raw` (a component's evaluated configuration: attributes by name, blocks as objects or
 * arrays of objects) as cty JSON bytes in the spec's implied type. Throws on an attribute the spec
 * does not have or a value of the wrong type, naming it.
 */
export function configJson(spec: PluginSpec, raw: Record<string, unknown>): Buffer {
  const value = objectValue(spec, raw, '');
  return Buffer.from(JSON.stringify({ value, type: typeJson(impliedType(spec)) }));
}

function objectValue(spec: PluginSpec, raw: Record<string, unknown>, where: string): Record<string, unknown> {
  const byName = new Map<string, [string, SpecNode]>();
  for (const [key, node] of Object.entries(spec.fields)) {
    const n = node.kind === 'attr' ? node.name : node.kind === 'block' || node.kind === 'blockList' || node.kind === 'blockAttrs' ? node.typeName : key;
    byName.set(n || key, [key, node]);
  }
  for (const k of Object.keys(raw)) {
    if (raw[k] !== undefined && !byName.has(k)) throw new Error(`${where}${k}: unsupported argument; the plugin does not expect it here`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, [key, node]] of byName) {
    const v = raw[name];
    const at = `${where}${name}`;
    switch (node.kind) {
      case 'attr':
        if (node.required && (v === undefined || v === null)) throw new Error(`${at}: the argument is required`);
        out[key] = conformValue(v, node.type, at);
        break;
      case 'blockAttrs':
        out[key] = conformValue(v, { kind: 'map', elem: node.elementType }, at);
        break;
      case 'block': {
        const one = Array.isArray(v) ? v[0] : v;
        out[key] = one === undefined || one === null ? null : nested(node.nested, one, `${at}.`);
        break;
      }
      case 'blockList': {
        const list = v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
        out[key] = list.map((b, i) => nested(node.nested, b, `${at}[${i}].`));
        break;
      }
      default:
        out[key] = conformValue(v, impliedType(node), at);
    }
  }
  return out;
}

function nested(node: SpecNode, v: unknown, where: string): unknown {
  if (node.kind === 'object') return objectValue(node, rec(v), where);
  return conformValue(v, impliedType(node), where);
}
