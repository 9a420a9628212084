/**
 * For tests: encodes a `PluginSpec` in the protobuf form a v2 plugin sends when started with
 * `--protobuf`. The schema is written here a second time, in .proto syntax and parsed by
 * protobufjs's own parser, independently of the reflection JSON the decoder uses
 * (src/plugins/spec-proto.ts), so that a wrong field number or name on either side shows.
 * Like the SDK, it refuses what the protobuf form cannot carry (block-attrs specs; set, object,
 * tuple and dynamic types).
 */
import protobuf from 'protobufjs';
import type { SpecNode, PluginSpec } from '../../src/plugins/config-spec.js';
import type { CtyType } from '../../src/plugins/cty.js';

const PROTO = `
syntax = "proto3";
message CtyType { oneof typeDef { CtyPrimitive primitive = 1; CtyList list = 2; CtyMap map = 3; } }
message CtyPrimitive { string typeString = 1; }
message CtyList { CtyType elementType = 1; }
message CtyMap { CtyType elementType = 1; }
message Spec { oneof block { Object object = 1; Attr attr = 2; Block block_value = 3; BlockList block_list = 4; } }
message Attr { string name = 1; CtyType type = 2; bool required = 3; }
message Block { string name = 1; bool required = 2; Spec nested = 3; }
message BlockList { string name = 1; Spec nested = 2; }
message Object { map<string, Spec> attributes = 1; }
`;

const Spec = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('Spec');

function ctyType(t: CtyType): unknown {
  switch (t.kind) {
    case 'string': return { primitive: { typeString: 'cty.String' } };
    case 'number': return { primitive: { typeString: 'cty.Number' } };
    case 'bool': return { primitive: { typeString: 'cty.Bool' } };
    case 'list': return { list: { elementType: ctyType(t.elem) } };
    case 'map': return { map: { elementType: ctyType(t.elem) } };
    default: throw new Error(`unsupported cty type for protobuf: ${t.kind}`);
  }
}

function spec(n: SpecNode): unknown {
  switch (n.kind) {
    case 'object': return { object: { attributes: Object.fromEntries(Object.entries(n.fields).map(([k, f]) => [k, spec(f)])) } };
    case 'attr': return { attr: { name: n.name, type: ctyType(n.type), required: n.required } };
    case 'block': return { block_value: { name: n.typeName, required: n.required, nested: spec(n.nested) } };
    case 'blockList': return { block_list: { name: n.typeName, nested: spec(n.nested) } };
    default: throw new Error(`unsupported spec for protobuf: ${n.kind}`);
  }
}

/** The protobuf bytes of `s` (a top-level object spec). */
export function encodeProtoSpec(s: PluginSpec): Buffer {
  return Buffer.from(Spec.encode(Spec.fromObject(spec(s) as Record<string, unknown>)).finish());
}
