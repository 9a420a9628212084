/**
 * The template functions of Packer 1.6.6's legacy engine (packer-plugin-sdk/template/interpolate),
 * with its behaviour and error texts:
 *
 * - `user NAME`: a variable's value; in variable defaults an unset (not yet known) one is an
 *   error, elsewhere it is "" (as in Packer);
 * - `env NAME`: only in variable defaults ("env vars are not allowed here" elsewhere);
 * - `timestamp` (Unix seconds of the run's start), `isotime [LAYOUT]` (Go layout, UTC),
 *   `uuid`, `build_name`, `build_type`, `template_dir` (absolute folder of the template), `pwd`,
 *   `packer_version`, `split S SEP N`, `replace OLD NEW N S`, `replace_all OLD NEW S`, `upper`,
 *   `lower`;
 * - `build NAME`: a value known only while building (`Host`, `ID`, …): returned as the HCL
 *   reference `build.NAME`, evaluated when the build runs;
 * - `consul_key`, `vault`, `aws_secretsmanager`: Packer's "not allowed here" errors outside
 *   variable defaults; in defaults builder reports them as not supported (it has no Consul, Vault
 *   or AWS client);
 * - `sed`: Packer's deprecation error. `clean_resource_name` exists only inside some Packer
 *   builders (not for the null, file or shell-local components), so it is "not defined" here too.
 */
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { GoFunctionError, type GoFunction, type GoValue } from './go-template.js';
import { formatGoTime, RFC3339 } from './go-time.js';

export interface LegacyFunctionContext {
  /** Variable values known so far. */
  user: ReadonlyMap<string, string>;
  /** True only while evaluating variable defaults (Packer's EnableEnv). */
  enableEnv: boolean;
  env: NodeJS.ProcessEnv;
  /** The template's path (absolute or relative to cwd). */
  templatePath: string;
  cwd: string;
  /** The run's start time (Packer's InitTime). */
  initTime: Date;
  version: string;
  buildName?: string;
  buildType?: string;
}

const str = (v: GoValue | undefined): string => String(v ?? '');
const num = (v: GoValue | undefined): number => (typeof v === 'number' ? v : Number(v));

function fn(arity: number, call: GoFunction['call'], extra: Partial<GoFunction> = {}): GoFunction {
  return { arity, call, ...extra };
}

function goReplace(src: string, old: string, repl: string, n: number): string {
  if (old === '') {
    // Go inserts `repl` before each rune and at the end, at most n times.
    const chars = [...src];
    const limit = n < 0 ? chars.length + 1 : Math.min(n, chars.length + 1);
    let out = '';
    for (let k = 0; k <= chars.length; k++) out += (k < limit ? repl : '') + (chars[k] ?? '');
    return out;
  }
  if (n < 0) return src.split(old).join(repl);
  let out = src;
  let from = 0;
  for (let k = 0; k < n; k++) {
    const idx = out.indexOf(old, from);
    if (idx < 0) break;
    out = out.slice(0, idx) + repl + out.slice(idx + old.length);
    from = idx + repl.length;
  }
  return out;
}

/** The function table for one rendering context. */
export function legacyFunctions(ctx: LegacyFunctionContext): Map<string, GoFunction> {
  const notAllowed = (message: string): GoFunction['call'] => () => {
    throw new GoFunctionError(message);
  };
  const notSupported = (what: string): GoFunction['call'] => () => {
    throw new GoFunctionError(`${what} is not supported by builder: set the value with -var or -var-file instead`);
  };
  return new Map<string, GoFunction>([
    [
      'user',
      fn(1, ([k]) => {
        const v = ctx.user.get(str(k));
        if (v === undefined && ctx.enableEnv) throw new GoFunctionError(`Error: variable not set: ${str(k)}`);
        return v ?? '';
      }),
    ],
    [
      'env',
      fn(1, ([k]) => {
        if (!ctx.enableEnv) throw new GoFunctionError('env vars are not allowed here');
        return ctx.env[str(k)] ?? '';
      }),
    ],
    ['timestamp', fn(0, () => String(Math.floor(ctx.initTime.getTime() / 1000)))],
    [
      'isotime',
      fn(
        0,
        (args) => {
          if (args.length > 1) throw new GoFunctionError(`too many values, 1 needed: [${args.map(str).join(' ')}]`);
          return formatGoTime(ctx.initTime, args.length === 0 ? RFC3339 : str(args[0]));
        },
        { variadic: true },
      ),
    ],
    ['uuid', fn(0, () => randomUUID())],
    [
      'build_name',
      fn(0, () => {
        if (!ctx.buildName) throw new GoFunctionError('build_name not available');
        return ctx.buildName;
      }),
    ],
    [
      'build_type',
      fn(0, () => {
        if (!ctx.buildType) throw new GoFunctionError('build_type not available');
        return ctx.buildType;
      }),
    ],
    ['template_dir', fn(0, () => dirname(resolve(ctx.cwd, ctx.templatePath)))],
    ['pwd', fn(0, () => ctx.cwd)],
    ['packer_version', fn(0, () => ctx.version)],
    [
      'split',
      fn(
        3,
        ([k, s, i]) => {
          const parts = str(k).split(str(s));
          const n = num(i);
          if (parts.length <= n || n < 0) {
            throw new GoFunctionError(`the substring ${n} was unavailable using the separator value, ${str(s)}, only ${parts.length} values were found`);
          }
          return parts[n]!;
        },
        { intArgs: [2] },
      ),
    ],
    ['replace', fn(4, ([o, n, c, s]) => goReplace(str(s), str(o), str(n), num(c)), { intArgs: [2] })],
    ['replace_all', fn(3, ([o, n, s]) => goReplace(str(s), str(o), str(n), -1))],
    ['upper', fn(1, ([s]) => str(s).toUpperCase())],
    ['lower', fn(1, ([s]) => str(s).toLowerCase())],
    ['build', fn(1, ([k]) => ({ raw: `build.${str(k)}` }))],
    ['consul_key', fn(1, ctx.enableEnv ? notSupported('consul_key') : notAllowed('consul_key is not allowed here'))],
    ['vault', fn(2, ctx.enableEnv ? notSupported('vault') : notAllowed('Vault vars are only allowed in the variables section'))],
    [
      'aws_secretsmanager',
      fn(0, ctx.enableEnv ? notSupported('aws_secretsmanager') : notAllowed('AWS Secrets Manager is only allowed in the variables section'), { variadic: true }),
    ],
    [
      'sed',
      fn(2, notAllowed('template function `sed` is deprecated use `replace` or `replace_all` instead.Documentation: https://www.packer.io/docs/templates/engine')),
    ],
    ['strftime', fn(1, notSupported('strftime'))],
  ]);
}
