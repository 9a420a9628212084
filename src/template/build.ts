/**
 * `build { … }` blocks: `name`, `description`, `sources` (strings such as "source.null.basic" or
 * "null.basic"), inner `source "source.TYPE.NAME" { name = …, more fields }` blocks that rename a
 * source and add fields for this build only, `provisioner`, `error-cleanup-provisioner`,
 * `post-processor` and `post-processors { post-processor … }` chains. An `hcp_packer_registry`
 * block is accepted with a warning that it is ignored.
 *
 * `dynamic` blocks in the build body are expanded first (so `dynamic "provisioner"` works).
 * Whether component types exist is checked by `validate` against the registries.
 */
import { errorDiag, warningDiag, type Diagnostic, type Range } from '../diagnostics.js';
import type { Block } from '../hcl/ast.js';
import { bodyContent, bodyPartialContent, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { convert } from '../values/convert.js';
import { T } from '../values/value.js';
import { expandDynamicBlocks } from './dynamic.js';
import { decodePostProcessorMeta, decodeProvisionerMeta } from './meta.js';
import type { BuildDef, BuildSourceRef, PostProcessorDef, ProvisionerDef, SourceDef } from './model.js';
import { defRange } from './ranges.js';

const buildSchema: BodySchema = {
  attributes: [{ name: 'name' }, { name: 'description' }, { name: 'sources' }],
  blocks: [
    { type: 'source', labelNames: ['reference'] },
    { type: 'provisioner', labelNames: ['type'] },
    { type: 'error-cleanup-provisioner', labelNames: ['type'] },
    { type: 'post-processor', labelNames: ['type'] },
    { type: 'post-processors', labelNames: [] },
    { type: 'hcp_packer_registry', labelNames: [] },
  ],
};

const postProcessorsSchema: BodySchema = {
  attributes: [],
  blocks: [{ type: 'post-processor', labelNames: ['type'] }],
};

const innerSourceSchema: BodySchema = { attributes: [{ name: 'name' }], blocks: [] };

const IDENT = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Parses "source.TYPE.NAME" or "TYPE.NAME" (Packer's sourceRefFromString), or undefined. */
export function parseSourceRef(text: string): { type: string; name: string } | undefined {
  let parts = text.split('.');
  if (parts.length < 2) return undefined;
  if (parts.length > 2) parts = parts.slice(1);
  const [type, name] = parts as [string, string];
  if (!IDENT.test(type) || !IDENT.test(name)) return undefined;
  return { type, name };
}

function invalidRef(subject: Range): Diagnostic {
  return errorDiag(
    'Invalid source reference',
    'A source reference is made of three parts split by a dot `.`: `source.TYPE.NAME`; each part must start with a letter and ' +
      'may contain only letters, digits, underscores and dashes. A valid source reference looks like: `source.null.basic`.',
    subject,
  );
}

/** The "Unknown source" diagnostics made, to tell them from decoding errors. */
const unknownSourceDiags = new WeakSet<Diagnostic>();

function unknownSource(ref: { type: string; name: string }, subject: Range): Diagnostic {
  const d = errorDiag(`Unknown source ${ref.type}.${ref.name}`, `No source block named "${ref.name}" of type "${ref.type}" is declared; declare it with source "${ref.type}" "${ref.name}" { … }.`, subject);
  unknownSourceDiags.add(d);
  return d;
}

function staticString(expr: Parameters<typeof evaluate>[0], ctx: EvalContext, diags: Diagnostic[]): string | undefined {
  const r = evaluate(expr, ctx);
  diags.push(...r.diagnostics);
  if (r.diagnostics.some((d) => d.severity === 'error')) return undefined;
  const c = convert(r.value, T.string);
  if ('message' in c || !c.value.isWhollyKnown || c.value.isNull) {
    diags.push(errorDiag('Unsuitable value type', 'Unsuitable value: a string is required.', expr.range));
    return undefined;
  }
  return c.value.unmark().asString();
}

export function decodeBuildBlock(block: Block, ctx: EvalContext, sources: ReadonlyMap<string, SourceDef>): { build?: BuildDef; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const expanded = expandDynamicBlocks(block.body, ctx);
  diags.push(...expanded.diagnostics);
  const { content, diagnostics } = bodyContent(expanded.body, buildSchema);
  diags.push(...diagnostics);
  const build: BuildDef = { name: '', sources: [], provisioners: [], postProcessors: [], range: defRange(block) };

  const name = content.attributes.get('name');
  if (name) build.name = staticString(name.expr, ctx, diags) ?? '';
  const description = content.attributes.get('description');
  if (description) build.description = staticString(description.expr, ctx, diags);

  const sourcesAttr = content.attributes.get('sources');
  if (sourcesAttr) {
    const r = evaluate(sourcesAttr.expr, ctx);
    diags.push(...r.diagnostics);
    const c = convert(r.value, T.list(T.string));
    if ('message' in c || !c.value.isWhollyKnown) {
      if (!r.diagnostics.length) diags.push(errorDiag('Unsuitable value type', `Unsuitable value: ${'message' in c ? c.error : 'the list must be known'}`, sourcesAttr.expr.range));
    } else if (!c.value.isNull) {
      for (const e of c.value.elements()) {
        const ref = parseSourceRef(e.unmark().asString());
        if (!ref) {
          diags.push(invalidRef(sourcesAttr.expr.range));
          continue;
        }
        // Kept though undeclared (reported): `inspect` lists it as written, as Packer does.
        if (!sources.has(`${ref.type}.${ref.name}`)) diags.push(unknownSource(ref, sourcesAttr.expr.range));
        build.sources.push({ type: ref.type, sourceName: ref.name, localName: ref.name, range: sourcesAttr.expr.range });
      }
    }
  }

  for (const b of content.blocks) {
    switch (b.type) {
      case 'source': {
        const ref = decodeInnerSource(b, ctx, sources, diags);
        if (ref) build.sources.push(ref);
        break;
      }
      case 'provisioner': {
        const p = decodeProvisioner(b, ctx, diags);
        if (p) build.provisioners.push(p);
        break;
      }
      case 'error-cleanup-provisioner': {
        const p = decodeProvisioner(b, ctx, diags);
        if (!p) break;
        if (build.errorCleanupProvisioner) {
          diags.push(errorDiag('Only one error-cleanup-provisioner is allowed', 'A build may have at most one error-cleanup-provisioner block.', defRange(b)));
        } else build.errorCleanupProvisioner = p;
        break;
      }
      case 'post-processor': {
        const p = decodePostProcessor(b, ctx, diags);
        if (p) build.postProcessors.push([p]);
        break;
      }
      case 'hcp_packer_registry':
        diags.push(
          warningDiag(
            'HCP Packer registry not supported',
            'builder does not publish build metadata to HCP Packer; this hcp_packer_registry block is ignored.',
            defRange(b),
          ),
        );
        break;
      case 'post-processors': {
        const pc = bodyContent(b.body, postProcessorsSchema);
        diags.push(...pc.diagnostics);
        const chain = pc.content.blocks.map((pb) => decodePostProcessor(pb, ctx, diags)).filter((p): p is PostProcessorDef => p !== undefined);
        if (chain.length > 0) build.postProcessors.push(chain);
        break;
      }
    }
  }

  const seen = new Set<string>();
  for (const s of build.sources) {
    const key = `${s.type}.${s.localName}`;
    if (seen.has(key)) {
      diags.push(
        errorDiag('Duplicate source in build', `The source ${key} is used twice in this build; give one of them another name with an inner source block { name = … }.`, s.range),
      );
    }
    seen.add(key);
  }
  // As Packer's parser, a build block that failed to decode is left out of the template (so
  // `inspect` does not show it); a reference to an undeclared source is not a decoding error
  // there (Packer finds it when it makes the builds), so such a build is kept.
  const decodeFailed = diags.some((d) => d.severity === 'error' && !unknownSourceDiags.has(d));
  return { build: decodeFailed ? undefined : build, diagnostics: diags };
}

function decodeInnerSource(b: Block, ctx: EvalContext, sources: ReadonlyMap<string, SourceDef>, diags: Diagnostic[]): BuildSourceRef | undefined {
  const range = b.labelRanges[0] ?? defRange(b);
  const ref = parseSourceRef(b.labels[0] ?? '');
  if (!ref) {
    diags.push(invalidRef(range));
    return undefined;
  }
  if (!sources.has(`${ref.type}.${ref.name}`)) diags.push(unknownSource(ref, range));
  const { content, remain, diagnostics } = bodyPartialContent(b.body, innerSourceSchema);
  diags.push(...diagnostics);
  let localName = ref.name;
  const nameAttr = content.attributes.get('name');
  if (nameAttr) localName = staticString(nameAttr.expr, ctx, diags) ?? ref.name;
  return { type: ref.type, sourceName: ref.name, localName, extraBody: remain, range };
}

function decodeProvisioner(b: Block, ctx: EvalContext, diags: Diagnostic[]): ProvisionerDef | undefined {
  const { meta, body, diagnostics } = decodeProvisionerMeta(b.body, ctx);
  diags.push(...diagnostics);
  return { ...meta, type: b.labels[0] ?? '', body, range: defRange(b) };
}

function decodePostProcessor(b: Block, ctx: EvalContext, diags: Diagnostic[]): PostProcessorDef | undefined {
  const { meta, body, diagnostics } = decodePostProcessorMeta(b.body, ctx);
  diags.push(...diagnostics);
  return { ...meta, type: b.labels[0] ?? '', body, range: defRange(b) };
}
