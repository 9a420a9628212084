/**
 * The template corpus: every fixture under test/fixtures/templates/ with the arguments it is
 * validated with and the result `builder validate` must give. Shared by the corpus test
 * (test/template/corpus.test.ts, in-process and through the CLI) and the differential test against
 * Packer 1.6.6 (test/differential/validate.test.ts).
 *
 * `notIn166` says why Packer 1.6.6 cannot be the judge of a case (a feature newer than 1.6.6, or a
 * rule where the issue follows current Packer); every other case is compared with `packer validate`.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Folder of the fixtures (the sources, not the compiled copy: fixtures are not compiled). */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'test', 'fixtures', 'templates');

export interface CorpusCase {
  /** Path under FIXTURES: a file or a folder. */
  path: string;
  /** Flags before the path, e.g. ['-var-file', 'values.pkrvars.hcl'] (var-file names are relative to FIXTURES). */
  args?: string[];
  env?: Record<string, string>;
  /** 'valid', or the summaries of the errors builder must report (each must appear in stderr). */
  expect: 'valid' | { errors: string[] };
  /** For a valid case: the summaries of the warnings it prints (else stderr must be empty). */
  warnings?: string[];
  /** Why Packer 1.6.6 cannot judge this case; absent means the case is compared with packer. */
  notIn166?: string;
}

const NEWER = 'uses a feature newer than Packer 1.6.6';

export const corpus: readonly CorpusCase[] = [
  // ---- valid -----------------------------------------------------------------------------------
  { path: 'minimal-null.pkr.hcl', expect: 'valid' },
  { path: 'variable-types.pkr.hcl', expect: 'valid' },
  { path: 'number-from-string.pkr.hcl', expect: 'valid' },
  { path: 'locals-order.pkr.hcl', expect: 'valid' },
  { path: 'local-block.pkr.hcl', expect: 'valid', notIn166: `${NEWER} (local blocks)` },
  { path: 'build-inner-source.pkr.hcl', expect: 'valid' },
  { path: 'provisioner-meta.pkr.hcl', expect: 'valid' },
  { path: 'post-processor-chains.pkr.hcl', expect: 'valid' },
  { path: 'json-basic.pkr.json', expect: 'valid' },
  { path: 'dir-auto-pkrvars', expect: 'valid' },
  { path: 'dir-multi-file', expect: 'valid' },
  { path: 'var-file-values.pkr.hcl', args: ['-var-file', 'values.pkrvars.hcl'], expect: 'valid' },
  { path: 'var-file-values.pkr.hcl', args: ['-var', 'region=us-east-1', '-var', 'replicas=2'], expect: 'valid' },
  { path: 'var-file-values.pkr.hcl', env: { PKR_VAR_region: 'from-env' }, expect: 'valid' },
  { path: 'legacy-variables-block.pkr.hcl', expect: 'valid' },
  { path: 'validation-pass.pkr.hcl', expect: 'valid' },
  { path: 'functions-in-locals.pkr.hcl', expect: 'valid' },
  { path: 'contextual-variables.pkr.hcl', expect: 'valid' },
  { path: 'sensitive-variable.pkr.hcl', expect: 'valid' },
  { path: 'required-version-ok.pkr.hcl', expect: 'valid' },
  // current Packer's validate refuses a required plugin that is not installed ("Missing plugins")
  { path: 'required-plugins.pkr.hcl', expect: { errors: ['Missing plugin github.com/hashicorp/docker >= 1.0.0'] }, notIn166: `${NEWER} (required_plugins)` },
  { path: 'error-cleanup-provisioner.pkr.hcl', expect: 'valid', notIn166: `${NEWER} (error-cleanup-provisioner)` },
  { path: 'multiple-builds.pkr.hcl', expect: 'valid' },
  { path: 'heredoc-and-templates.pkr.hcl', expect: 'valid' },
  { path: 'expressions-in-locals.pkr.hcl', expect: 'valid' },
  { path: 'templatefile-path-root.pkr.hcl', expect: 'valid', notIn166: `${NEWER} (templatefile)` },
  { path: 'override-by-source.pkr.hcl', expect: 'valid' },
  { path: 'dynamic-block.pkr.hcl', expect: 'valid' },
  { path: 'dynamic-block.pkr.json', expect: 'valid' },
  { path: 'dynamic-block-default-iterator.pkr.json', expect: 'valid' },
  { path: 'env-in-variable-default.pkr.hcl', expect: 'valid' },
  { path: 'sources-without-prefix.pkr.hcl', expect: 'valid' },
  { path: 'no-build-block.pkr.hcl', expect: 'valid' },
  { path: 'type-conversions.pkr.hcl', expect: 'valid' },
  { path: 'keep-input-artifact-string-bool.pkr.hcl', expect: 'valid' },
  { path: 'dir-mixed-json-hcl', expect: 'valid' },
  { path: 'string-var-takes-text.pkr.hcl', args: ['-var', 'name=["not", "parsed"]'], expect: 'valid' },

  // ---- invalid ---------------------------------------------------------------------------------
  { path: 'err-unsupported-argument.pkr.hcl', expect: { errors: ['Unsupported argument'] } },
  { path: 'json-unsupported-argument.pkr.json', expect: { errors: ['Extraneous JSON object property'] } },
  { path: 'err-undeclared-variable-ref.pkr.hcl', expect: { errors: ['Unsupported attribute'] } },
  { path: 'err-unset-variable.pkr.hcl', expect: { errors: ['Unset variable "needed"'] } },
  { path: 'var-file-values.pkr.hcl', expect: { errors: ['Unset variable "region"'] } },
  { path: 'err-bad-default-type.pkr.hcl', expect: { errors: ['Invalid default value for variable'] } },
  { path: 'err-list-to-string.pkr.hcl', expect: { errors: ['Invalid default value for variable'] } },
  { path: 'err-locals-cycle.pkr.hcl', expect: { errors: ['Cycle in local variables'] } },
  { path: 'err-syntax.pkr.hcl', expect: { errors: ['Unclosed configuration block'] } },
  { path: 'err-json-syntax.pkr.json', expect: { errors: ['Trailing comma in object'] } },
  { path: 'err-unknown-source-ref.pkr.hcl', expect: { errors: ['Unknown source null.missing'] } },
  { path: 'err-bad-source-reference.pkr.hcl', expect: { errors: ['Invalid source reference'] } },
  { path: 'err-unknown-provisioner.pkr.hcl', expect: { errors: ['Unknown provisioner type "no-such-provisioner"'] } },
  { path: 'err-unknown-builder.pkr.hcl', expect: { errors: ['Unknown source type "no-such-builder"'] } },
  { path: 'err-bad-duration.pkr.hcl', expect: { errors: ['Failed to parse pause_before duration'] } },
  { path: 'err-invalid-max-retries.pkr.hcl', expect: { errors: ['Unsuitable value type'] } },
  { path: 'err-env-in-locals.pkr.hcl', expect: { errors: ['Call to unknown function'] } },
  { path: 'err-duplicate-variable.pkr.hcl', expect: { errors: ['Duplicate variable'] } },
  { path: 'err-duplicate-source.pkr.hcl', expect: { errors: ['Duplicate source block'] } },
  { path: 'err-duplicate-local.pkr.hcl', expect: { errors: ['Duplicate local definition'] }, notIn166: 'Packer 1.6.6 lets the later local win; current Packer rejects duplicates' },
  { path: 'err-unknown-block.pkr.hcl', expect: { errors: ['Unsupported block type'] } },
  { path: 'err-data-unknown-type.pkr.hcl', expect: { errors: ['Unknown data source type "no-such-datasource"'] } },
  { path: 'err-unknown-function.pkr.hcl', expect: { errors: ['Call to unknown function'] } },
  { path: 'err-bad-type-expression.pkr.hcl', expect: { errors: ['Invalid type specification'] } },
  { path: 'err-wrong-argument-type.pkr.hcl', expect: { errors: ['Incorrect attribute value type'] } },
  { path: 'err-type-conversions.pkr.hcl', expect: { errors: ['Invalid default value for variable', 'Invalid default value for variable', 'Invalid default value for variable'] } },
  { path: 'err-multiple-problems.pkr.hcl', expect: { errors: ['Invalid default value for variable', 'Invalid default value for variable'] } },
  { path: 'err-validation-message.pkr.hcl', expect: { errors: ['Invalid validation error message'] } },
  { path: 'err-sensitive-in-message.pkr.hcl', expect: { errors: ['Failed preparing provisioner "shell-local"'] } },
  { path: 'validation-fail.pkr.hcl', expect: { errors: ['The image_id value must be a valid AMI id, starting with "ami-".'] } },
  { path: 'required-version-unmet.pkr.hcl', expect: { errors: ['Unsupported Packer Core version'] } },
  { path: 'var-file-values.pkr.hcl', args: ['-var', 'region=x', '-var', 'nope=1'], expect: { errors: ['Undefined -var variable'] } },
  { path: 'var-file-values.pkr.hcl', args: ['-var', 'region=x', '-var', 'replicas=abc'], expect: { errors: ['Invalid argument value for -var variable'] } },
  // An undeclared var-file name is a warning, as in every Packer (issue 13).
  { path: 'var-file-values.pkr.hcl', args: ['-var-file', 'undeclared.pkrvars.hcl'], expect: 'valid', warnings: ['Undefined variable'] },
  { path: 'inspect/null-default.pkr.hcl', expect: 'valid' },
  { path: 'communicator-block.pkr.hcl', expect: 'valid', warnings: ['Communicator block ignored'] },
  { path: 'err-communicator-one-label.pkr.hcl', expect: { errors: ['Missing name for communicator'] } },
  { path: 'inspect/fruit.pkr.hcl', expect: { errors: ['Unset variable "fruit"'] } },
  {
    path: 'inspect/everything-wrong.pkr.hcl',
    expect: { errors: ['Unset variable "needed"', 'Cycle in local variables', 'Duplicate source block', 'Unknown source null.missing', 'Unsupported argument'] },
    notIn166: 'Packer 1.6.6 stops at the unset variable; judged by the error list here',
  },
  { path: 'err-keep-input-artifact-type.pkr.hcl', expect: { errors: ['Unsuitable value type'] } },
  { path: 'err-unknown-build-argument.pkr.hcl', expect: { errors: ['Unsupported argument'] } },
  { path: 'err-var-in-default.pkr.hcl', expect: { errors: ['Variables not allowed'] } },
  { path: 'err-locals-unset-variable.pkr.hcl', expect: { errors: ['Unset variable "name"'] } },
  { path: 'err-bad-var-file-value.pkr.hcl', args: ['-var-file', 'bad-types.pkrvars.json'], expect: { errors: ['Invalid value for variable'] } },
  {
    path: 'var-file-values.pkr.hcl',
    args: ['-no-warn-undeclared-var', '-var-file', 'undeclared.pkrvars.hcl'],
    expect: 'valid',
    notIn166: 'Packer 1.6.6 has no -no-warn-undeclared-var flag (current Packer has)',
  },
  { path: 'only-except-config.pkr.hcl', args: ['-except=broken.*'], expect: 'valid' },
  { path: 'only-except-config.pkr.hcl', args: ['-only=good.null.one'], expect: 'valid' },
  { path: 'only-except-config.pkr.hcl', expect: { errors: ['Unsupported argument'] } },
  { path: 'only-except-filter.pkr.hcl', args: ['-except=broken.*'], expect: { errors: ['Unknown provisioner type "no-such-provisioner"'] } },
  { path: 'err-variable-in-pkrvars.pkr.hcl', args: ['-var-file', 'declares.pkrvars.hcl'], expect: { errors: ['Variable declaration in a .pkrvar file'] } },
];

/** The case's flags with var-file names made absolute. */
export function caseArgs(c: CorpusCase): string[] {
  const args = [...(c.args ?? [])];
  for (let i = 0; i < args.length - 1; i++) if (args[i] === '-var-file') args[i + 1] = join(FIXTURES, args[i + 1]!);
  return args;
}

export function caseName(c: CorpusCase): string {
  const extra = [...(c.args ?? []), ...Object.entries(c.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  return extra.length > 0 ? `${c.path} ${extra.join(' ')}` : c.path;
}
