/**
 * The `packer` block: `required_version` (checked against the Packer language version builder
 * implements) and `required_plugins` (accepted and listed; builder's components are built in).
 *
 * Version constraints use HashiCorp's go-version syntax: comma-separated comparisons, each with
 * `=`, `!=`, `>`, `>=`, `<`, `<=` or `~>` (pessimistic: `~> 1.7` means >= 1.7, < 2.0; `~> 1.7.2`
 * means >= 1.7.2, < 1.8.0). Versions are compared with `semver`'s compare (imported alone: the whole package is slow to load).
 */
import compareVersions from 'semver/functions/compare.js';
import { errorDiag, type Diagnostic } from '../diagnostics.js';
import type { Block } from '../hcl/ast.js';
import { bodyContent, bodyJustAttributes, type BodySchema } from '../hcl/body.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { PACKER_LANGUAGE_VERSION } from '../version.js';
import type { PackerBlock } from './model.js';

const packerSchema: BodySchema = {
  attributes: [{ name: 'required_version' }],
  blocks: [{ type: 'required_plugins', labelNames: [] }],
};

interface Comparison {
  op: string;
  version: string;
  /** Number of dotted segments written (for `~>`). */
  segments: number;
}

function parseConstraint(text: string): Comparison[] | undefined {
  const out: Comparison[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(-[0-9A-Za-z.-]+)?\s*$/.exec(part);
    if (!m) return undefined;
    const nums = m[2]!.split('.');
    const full = [...nums, '0', '0'].slice(0, 3).join('.') + (m[3] ?? '');
    out.push({ op: m[1] ?? '=', version: full, segments: nums.length });
  }
  return out;
}

function satisfies(version: string, c: Comparison): boolean {
  const cmp = compareVersions(version, c.version);
  switch (c.op) {
    case '=':
      return cmp === 0;
    case '!=':
      return cmp !== 0;
    case '>':
      return cmp > 0;
    case '>=':
      return cmp >= 0;
    case '<':
      return cmp < 0;
    case '<=':
      return cmp <= 0;
    default: {
      // ~>: at least the version, and below the next release of the second-to-last segment written.
      if (cmp < 0) return false;
      const [major, minor] = c.version.split('.').map(Number) as [number, number];
      const upper = c.segments <= 2 ? `${major + 1}.0.0` : `${major}.${minor + 1}.0`;
      return compareVersions(version, upper) < 0;
    }
  }
}

/** Whether `version` meets a go-version constraint text; undefined when the text is not one. */
export function versionSatisfies(version: string, constraint: string): boolean | undefined {
  const parsed = parseConstraint(constraint);
  return parsed ? parsed.every((c) => satisfies(version, c)) : undefined;
}

/** Decodes one `packer` block into `into`; checks `required_version`. */
export function decodePackerBlock(block: Block, ctx: EvalContext, into: PackerBlock): Diagnostic[] {
  const diags: Diagnostic[] = [];
  const { content, diagnostics } = bodyContent(block.body, packerSchema);
  diags.push(...diagnostics);
  const rv = content.attributes.get('required_version');
  if (rv) {
    const r = evaluate(rv.expr, ctx);
    diags.push(...r.diagnostics);
    const text = typeof r.value.raw === 'string' ? r.value.raw : undefined;
    const constraint = text === undefined ? undefined : parseConstraint(text);
    if (!constraint) {
      if (!r.diagnostics.length) {
        diags.push(
          errorDiag('Invalid version constraint', 'This string does not use correct version constraint syntax, such as ">= 1.7.0" or "~> 1.7".', rv.expr.range),
        );
      }
    } else {
      into.requiredVersion = into.requiredVersion ? `${into.requiredVersion}, ${text}` : text;
      if (!constraint.every((c) => satisfies(PACKER_LANGUAGE_VERSION, c))) {
        diags.push(
          errorDiag(
            'Unsupported Packer Core version',
            `This configuration does not support Packer version ${PACKER_LANGUAGE_VERSION} (the Packer language version builder implements): ` +
              `it requires ${text}. To proceed, change the version constraint, or run the template with a Packer version that satisfies it.`,
            rv.expr.range,
          ),
        );
      }
    }
  }
  for (const rp of content.blocks) {
    const { attributes, diagnostics: d } = bodyJustAttributes(rp.body);
    diags.push(...d);
    for (const attr of attributes.values()) {
      const r = evaluate(attr.expr, ctx);
      diags.push(...r.diagnostics);
      const v = r.value;
      if (typeof v.raw === 'string') {
        into.requiredPlugins.push({ name: attr.name, version: v.raw, range: attr.range });
      } else if (v.isMapping && !v.unknown) {
        const get = (k: string): string | undefined => {
          const e = v.entries().get(k);
          return e && typeof e.raw === 'string' ? e.raw : undefined;
        };
        into.requiredPlugins.push({ name: attr.name, source: get('source'), version: get('version'), range: attr.range });
      } else if (!r.diagnostics.length) {
        diags.push(errorDiag('Invalid required_plugins entry', `The entry "${attr.name}" must be an object such as { version = ">= 1.0.0", source = "github.com/hashicorp/${attr.name}" }.`, attr.expr.range));
      }
    }
  }
  return diags;
}
