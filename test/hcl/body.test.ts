import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Block, Body, File } from '../../src/hcl/ast.js';
import { bodyContent, bodyJustAttributes, bodyPartialContent, type BodySchema } from '../../src/hcl/body.js';
import { parseJsonConfig } from '../../src/hcl/json.js';
import { parseConfig } from '../../src/hcl/parser.js';

function native(src: string): File {
  const { file, diagnostics } = parseConfig(src, 'n.pkr.hcl');
  assert.deepEqual(diagnostics, []);
  return file;
}

function json(src: string): File {
  const { file, diagnostics } = parseJsonConfig(src, 'j.pkr.json');
  assert.deepEqual(diagnostics, []);
  return file;
}

const topSchema: BodySchema = {
  attributes: [{ name: 'required_version' }],
  blocks: [
    { type: 'variable', labelNames: ['name'] },
    { type: 'source', labelNames: ['type', 'name'] },
    { type: 'build', labelNames: [] },
  ],
};

function where(d: { subject?: { start: { line: number; column: number } } }): string {
  return d.subject ? `${d.subject.start.line}:${d.subject.start.column}` : '-';
}

function messages(diags: { summary: string; detail?: string; subject?: { start: { line: number; column: number } } }[]): string[] {
  return diags.map((d) => `${where(d)} ${d.summary}: ${d.detail}`);
}

function blockLine(b: Block): string {
  return `${b.type}${b.labels.map((l) => ` ${l}`).join('')} @${b.typeRange.start.line}:${b.typeRange.start.column}`;
}

// ---- the same configuration in both syntaxes ---------------------------------------------------

const nativeSrc = `required_version = ">= 1.7"
variable "a" {
  default = 1
}
source "null" "x" {
  communicator = "none"
}
source "null" "y" {}
build {
  sources = ["source.null.x"]
}
build {
  name = "two"
}
`;

const jsonSrc = `{
  "//": "a comment",
  "required_version": ">= 1.7",
  "variable": { "a": { "default": 1 } },
  "source": { "null": { "x": { "communicator": "none" }, "y": {} } },
  "build": [ { "sources": ["source.null.x"] }, { "name": "two" } ]
}`;

test('bodyContent: native and JSON bodies give the same content', () => {
  const n = bodyContent(native(nativeSrc).body, topSchema);
  const j = bodyContent(json(jsonSrc).body, topSchema);
  assert.deepEqual(n.diagnostics, []);
  assert.deepEqual(j.diagnostics, []);
  const outline = (c: typeof n.content): string[] => [
    ...[...c.attributes.keys()].map((k) => `attr ${k}`),
    ...c.blocks.map((b) => `${b.type} ${b.labels.join(' ')}: ${[...bodyJustAttributes(b.body).attributes.keys()].join(',')}`),
  ];
  const want = ['attr required_version', 'variable a: default', 'source null x: communicator', 'source null y: ', 'build : sources', 'build : name'];
  assert.deepEqual(outline(n.content), want);
  assert.deepEqual(outline(j.content), want);
});

test('bodyContent: JSON blocks point at their property names; attributes hold JSON expressions', () => {
  const { content } = bodyContent(json(jsonSrc).body, topSchema);
  assert.deepEqual(content.blocks.map(blockLine), ['variable a @4:3', 'source null x @5:3', 'source null y @5:3', 'build @6:3', 'build @6:3']);
  assert.deepEqual(content.blocks[1].labelRanges.map((r) => `${r.start.line}:${r.start.column}`), ['5:15', '5:25']);
  assert.equal(`${content.blocks[1].range.start.column}-${content.blocks[1].range.end.column}`, '3-28');
  const attr = content.attributes.get('required_version');
  assert.equal(attr?.expr.kind, 'json');
  assert.equal(attr ? `${attr.nameRange.start.line}:${attr.nameRange.start.column}` : '', '3:3');
});

test('bodyContent: JSON label objects may also be arrays of objects, and null means no block', () => {
  const { content, diagnostics } = bodyContent(json('{"source": [{"null": {"a": {}}}, {"file": [{"b": {}}, {"c": null}]}], "variable": null}').body, topSchema);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(content.blocks.map((b) => `${b.type} ${b.labels.join(' ')}`), ['source null a', 'source file b']);
});

// ---- native diagnostics ------------------------------------------------------------------------

const nativeErrors: [string, string, BodySchema, string[]][] = [
  ['unsupported argument with a suggestion', 'required_versio = "1"\n', topSchema,
    ['1:1 Unsupported argument: An argument named "required_versio" is not expected here. Did you mean "required_version"?']],
  ['unsupported argument', 'foo = 1\n', topSchema, ['1:1 Unsupported argument: An argument named "foo" is not expected here.']],
  ['argument where a block is expected', 'build = {}\n', topSchema,
    ['1:1 Unsupported argument: An argument named "build" is not expected here. Did you mean to define a block of type "build"?']],
  ['unsupported block type with a suggestion', 'biuld {}\n', topSchema, ['1:1 Unsupported block type: Blocks of type "biuld" are not expected here. Did you mean "build"?']],
  ['unsupported block type', 'data "x" "y" {}\n', topSchema, ['1:1 Unsupported block type: Blocks of type "data" are not expected here.']],
  ['block where an argument is expected', 'required_version {}\n', topSchema,
    ['1:1 Unsupported block type: Blocks of type "required_version" are not expected here. Did you mean to define argument "required_version"? If so, use the equals sign to assign it a value.']],
  ['missing label', 'source "null" {}\n', topSchema, ['1:8 Missing name for source: All source blocks must have 2 labels (type, name).']],
  ['missing labels', 'variable {}\n', topSchema, ['1:1 Missing name for variable: All variable blocks must have 1 labels (name).']],
  ['extraneous label', 'build "x" {}\n', topSchema, ['1:7 Extraneous label for build: No labels are expected for build blocks.']],
  ['extraneous labels', 'variable "a" "b" {}\n', topSchema, ['1:14 Extraneous label for variable: Only 1 labels (name) are expected for variable blocks.']],
];

for (const [name, src, schema, want] of nativeErrors) {
  test(`bodyContent (native): ${name}`, () => {
    assert.deepEqual(messages(bodyContent(native(src).body, schema).diagnostics), want);
  });
}

test('bodyContent: a missing required argument points at the body', () => {
  const file = native('v "a" {\n  type = string\n}\n');
  const block = bodyContent(file.body, { attributes: [], blocks: [{ type: 'v', labelNames: ['n'] }] }).content.blocks[0];
  const r = bodyContent(block.body, { attributes: [{ name: 'type' }, { name: 'default', required: true }], blocks: [] });
  assert.deepEqual(messages(r.diagnostics), ['1:7 Missing required argument: The argument "default" is required, but no definition was found.']);
  const j = bodyContent(json('{"type": "string"}').body, { attributes: [{ name: 'default', required: true }, { name: 'type' }], blocks: [] });
  assert.deepEqual(messages(j.diagnostics), ['1:18 Missing required argument: The argument "default" is required, but no definition was found.']);
});

test('bodyPartialContent: the rest of the body has only what the schema did not name', () => {
  const file = native('a = 1\nb = 2\nx {}\ny {}\n');
  const first = bodyPartialContent(file.body, { attributes: [{ name: 'a' }], blocks: [{ type: 'x', labelNames: [] }] });
  assert.deepEqual(first.diagnostics, []);
  assert.deepEqual([...first.content.attributes.keys()], ['a']);
  assert.deepEqual(first.content.blocks.map((b) => b.type), ['x']);
  const rest = bodyContent(first.remain, { attributes: [{ name: 'b' }], blocks: [{ type: 'y', labelNames: [] }] });
  assert.deepEqual(rest.diagnostics, []);
  assert.deepEqual([...rest.content.attributes.keys()], ['b']);
  const strict = bodyContent(first.remain, { attributes: [], blocks: [] });
  assert.deepEqual(messages(strict.diagnostics), [
    '2:1 Unsupported argument: An argument named "b" is not expected here.',
    '4:1 Unsupported block type: Blocks of type "y" are not expected here.',
  ]);
});

test('bodyPartialContent: the same for JSON bodies', () => {
  const file = json('{"a": 1, "b": 2, "x": {}, "y": {}}');
  const first = bodyPartialContent(file.body, { attributes: [{ name: 'a' }], blocks: [{ type: 'x', labelNames: [] }] });
  assert.deepEqual(first.diagnostics, []);
  const strict = bodyContent(first.remain, { attributes: [{ name: 'c' }], blocks: [] });
  assert.deepEqual(messages(strict.diagnostics), [
    '1:10 Extraneous JSON object property: No argument or block type is named "b". Did you mean "c"?',
    '1:27 Extraneous JSON object property: No argument or block type is named "y". Did you mean "c"?',
  ]);
});

// ---- JSON diagnostics --------------------------------------------------------------------------

const jsonErrors: [string, string, string[]][] = [
  ['extraneous property', '{"foo": 1}', ['1:2 Extraneous JSON object property: No argument or block type is named "foo".']],
  ['extraneous property with a suggestion', '{"biuld": {}}', ['1:2 Extraneous JSON object property: No argument or block type is named "biuld". Did you mean "build"?']],
  ['duplicate argument', '{"required_version": "1", "required_version": "2"}', ['1:27 Duplicate argument: The argument "required_version" was already set at j.pkr.json:1,2-25.']],
  ['block of the wrong type', '{"build": 1}', ['1:11 Incorrect JSON value type: Either a JSON object or a JSON array is required, representing the contents of one or more "build" blocks.']],
  ['label level of the wrong type', '{"variable": "x"}', ['1:14 Incorrect JSON value type: Either a JSON object or JSON array of objects is required here, to specify name labels for this block.']],
  ['label array item of the wrong type', '{"variable": [1]}', [
    '1:15 Incorrect JSON value type: A JSON object is required here, to specify name labels for this block.',
    "1:14 Missing block label: At least one object property is required, whose name represents the variable block's name.",
  ]],
  ['missing label', '{"source": {"null": {}}}', ['1:21 Missing block label: At least one object property is required, whose name represents the source block\'s name.']],
  ['root array item of the wrong type', '[{"build": {}}, 2]', ['1:17 Incorrect JSON value type: A JSON object is required here, to define arguments and child blocks.']],
];

for (const [name, src, want] of jsonErrors) {
  test(`bodyContent (JSON): ${name}`, () => {
    assert.deepEqual(messages(bodyContent(json(src).body, topSchema).diagnostics), want);
  });
}

test('bodyContent (JSON): a root array merges its objects', () => {
  const r = bodyContent(json('[{"build": {}}, {"variable": {"a": {}}}]').body, topSchema);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(r.content.blocks.map((b) => `${b.type} ${b.labels.join(' ')}`), ['build ', 'variable a']);
});

// ---- just attributes ---------------------------------------------------------------------------

test('bodyJustAttributes: native bodies must not have blocks', () => {
  const r = bodyJustAttributes(native('a = 1\nb {}\nc = 2\n').body);
  assert.deepEqual([...r.attributes.keys()], ['a', 'c']);
  assert.deepEqual(messages(r.diagnostics), ['2:1 Unexpected "b" block: Blocks are not allowed here.']);
});

test('bodyJustAttributes: every JSON property is an attribute, "//" is a comment', () => {
  const body: Body = json('{"//": "note", "a": {"nested": true}, "b": [1]}').body;
  const r = bodyJustAttributes(body);
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual([...r.attributes.entries()].map(([k, a]) => `${k}:${a.expr.kind}`), ['a:json', 'b:json']);
  const dup = bodyJustAttributes(json('{"a": 1, "a": 2}').body);
  assert.deepEqual(messages(dup.diagnostics), ['1:10 Duplicate attribute definition: The argument "a" was already set at j.pkr.json:1,2-8.']);
  const arr = bodyJustAttributes(json('[{"a": 1}]').body);
  assert.deepEqual(messages(arr.diagnostics), ['1:1 Incorrect JSON value type: A JSON object is required here, setting the arguments for this block.']);
});
