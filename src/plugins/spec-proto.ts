/**
 * The protobuf form of a plugin's ConfigSpec (and of a data source's OutputSpec): what a plugin of
 * the current SDK (≥ v0.6.0) returns when its `describe` says `"protocol_version":"v2"` and it was
 * started with `--protobuf`. Decoded into the same `PluginSpec` the gob form gives (config-spec.ts).
 *
 * The schema, as observed on the wire (proto3; field numbers in brackets):
 * - `Spec`: one of `object` [1] `Object`, `attr` [2] `Attr`, `block_value` [3] `Block`,
 *   `block_list` [4] `BlockList`. The reply's bytes are one `Spec` whose kind is `object`.
 * - `Object`: `attributes` [1] map<string, Spec>.
 * - `Attr`: `name` [1] string, `type` [2] `CtyType`, `required` [3] bool.
 * - `Block`: `name` [1] string, `required` [2] bool, `nested` [3] `Spec`.
 * - `BlockList`: `name` [1] string, `nested` [2] `Spec` (no item limits: they are 0, 0 here).
 * - `CtyType`: one of `primitive` [1] `{typeString [1]: "cty.String"|"cty.Number"|"cty.Bool"}`,
 *   `list` [2] `{elementType [1] CtyType}`, `map` [3] `{elementType [1] CtyType}`.
 * The SDK has no protobuf form for block-attrs or block-object specs, nor for set, object or tuple
 * types: a plugin using them cannot be started with `--protobuf` (it fails to answer ConfigSpec).
 *
 * Contracts:
 * - `decodeProtoSpec` throws on bytes that are not such a message, a top-level spec that is not an
 *   object, or an unknown primitive type name (as the SDK's own decoder does). A nested `Spec`
 *   with no kind set is kept as `{ kind: 'unknown' }` (accepts anything), as the gob decoder does
 *   with a kind it does not know.
 * - `decodeSpecReply` picks the form: protobuf when the component was started with `--protobuf`,
 *   gob otherwise; the configuration sent back stays cty JSON in both (the SDK's Prepare/Configure
 *   arguments do not change with the flag).
 */
import protobuf from 'protobufjs/light.js';
import { decodeConfigSpec, type PluginSpec, type SpecNode } from './config-spec.js';
import type { CtyType } from './cty.js';

/** The message definitions, as protobufjs reflection JSON (written from the schema above). */
const SCHEMA = {
  nested: {
    CtyType: {
      oneofs: { typeDef: { oneof: ['primitive', 'list', 'map'] } },
      fields: { primitive: { type: 'CtyPrimitive', id: 1 }, list: { type: 'CtyList', id: 2 }, map: { type: 'CtyMap', id: 3 } },
    },
    CtyPrimitive: { fields: { typeString: { type: 'string', id: 1 } } },
    CtyList: { fields: { elementType: { type: 'CtyType', id: 1 } } },
    CtyMap: { fields: { elementType: { type: 'CtyType', id: 1 } } },
    Spec: {
      oneofs: { block: { oneof: ['object', 'attr', 'block_value', 'block_list'] } },
      fields: {
        object: { type: 'Object', id: 1 },
        attr: { type: 'Attr', id: 2 },
        block_value: { type: 'Block', id: 3 },
        block_list: { type: 'BlockList', id: 4 },
      },
    },
    Attr: { fields: { name: { type: 'string', id: 1 }, type: { type: 'CtyType', id: 2 }, required: { type: 'bool', id: 3 } } },
    Block: { fields: { name: { type: 'string', id: 1 }, required: { type: 'bool', id: 2 }, nested: { type: 'Spec', id: 3 } } },
    BlockList: { fields: { name: { type: 'string', id: 1 }, nested: { type: 'Spec', id: 2 } } },
    Object: { fields: { attributes: { keyType: 'string', type: 'Spec', id: 1 } } },
  },
};

const SpecType = protobuf.Root.fromJSON(SCHEMA).lookupType('Spec');

/** The command-line flag that asks a v2 plugin for the protobuf form. */
export const PROTOBUF_FLAG = '--protobuf';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj {
  return v !== null && typeof v === 'object' ? (v as Obj) : {};
}

const PRIMITIVES: Record<string, CtyType> = {
  'cty.String': { kind: 'string' },
  'cty.Number': { kind: 'number' },
  'cty.Bool': { kind: 'bool' },
};

function ctyType(v: unknown, where: string): CtyType {
  const t = obj(v);
  switch (t.typeDef) {
    case 'primitive': {
      const name = String(obj(t.primitive).typeString ?? '');
      const p = PRIMITIVES[name];
      if (!p) throw new Error(`${where}: unknown primitive type ${JSON.stringify(name)}`);
      return p;
    }
    case 'list': return { kind: 'list', elem: ctyType(obj(t.list).elementType, where) };
    case 'map': return { kind: 'map', elem: ctyType(obj(t.map).elementType, where) };
    default: throw new Error(`${where}: a type with no kind`);
  }
}

function specNode(v: unknown, where: string): SpecNode {
  const s = obj(v);
  switch (s.block) {
    case 'object': {
      const fields: Record<string, SpecNode> = {};
      for (const [k, f] of Object.entries(obj(obj(s.object).attributes))) fields[k] = specNode(f, `${where}.${k}`);
      return { kind: 'object', fields };
    }
    case 'attr': {
      const a = obj(s.attr);
      return { kind: 'attr', name: String(a.name ?? ''), type: ctyType(a.type, where), required: a.required === true };
    }
    case 'block_value': {
      const b = obj(s.block_value);
      return { kind: 'block', typeName: String(b.name ?? ''), required: b.required === true, nested: specNode(b.nested, where) };
    }
    case 'block_list': {
      const b = obj(s.block_list);
      return { kind: 'blockList', typeName: String(b.name ?? ''), minItems: 0, maxItems: 0, nested: specNode(b.nested, where) };
    }
    default: return { kind: 'unknown', goType: 'protobuf Spec with no kind' };
  }
}

/** Decodes a protobuf `Spec` (a ConfigSpec or OutputSpec reply's bytes) into a `PluginSpec`. */
export function decodeProtoSpec(bytes: Uint8Array): PluginSpec {
  let message: Obj;
  try {
    message = SpecType.toObject(SpecType.decode(bytes), { oneofs: true, defaults: true });
  } catch (e) {
    throw new Error(`the plugin's spec is not a protobuf Spec message (${(e as Error).message})`);
  }
  const node = specNode(message, 'spec');
  if (node.kind !== 'object') throw new Error(`the plugin's protobuf spec is ${node.kind === 'unknown' ? 'empty' : `a ${node.kind}`}, not an object spec`);
  return node;
}

/** True when a component's start arguments ask for the protobuf form. */
export function startsWithProtobuf(args: readonly string[]): boolean {
  return args.includes(PROTOBUF_FLAG);
}

/** Decodes a spec reply in the form the component was started for (`args`: its start arguments). */
export function decodeSpecReply(bytes: Buffer, args: readonly string[]): PluginSpec {
  return startsWithProtobuf(args) ? decodeProtoSpec(bytes) : decodeConfigSpec(bytes);
}

/** The environment variable with which current Packer forces the gob form for every plugin. */
export const FORCE_GOB_ENV = 'PACKER_FORCE_GOB';

/**
 * Whether plugins are started with `--protobuf`, decided once for a run as current Packer decides:
 * only when every plugin that serves components says `"protocol_version":"v2"` in its `describe`
 * (one plugin without it makes every plugin use gob), and `PACKER_FORCE_GOB` is unset, empty or
 * "0". `plugins` are the best binary of each plugin name (the ones whose components are used).
 * A plugin is still only sent the flag when it says v2 itself (see `pluginStartsWithProtobuf`).
 */
export function protobufForRun(plugins: ReadonlyArray<{ protocol_version?: string; componentCount: number }>, env: NodeJS.ProcessEnv): boolean {
  const force = env[FORCE_GOB_ENV];
  if (force !== undefined && force !== '' && force !== '0') return false;
  return plugins.every((p) => p.componentCount === 0 || p.protocol_version === 'v2');
}

/** The arguments that start a component of a multi-component plugin, `--protobuf` where Packer puts it. */
export function startArgs(kind: string, component: string, protobuf: boolean): string[] {
  return protobuf ? ['start', kind, PROTOBUF_FLAG, component] : ['start', kind, component];
}
