/**
 * `console` on a legacy JSON template, as Packer 1.6.6's JSON-mode console (packer.Core's
 * EvaluateExpression after an Initialize whose errors are ignored):
 *
 * - each input line (trimmed) is rendered with the legacy engine, with the template's user
 *   variables, its path (`template_dir`) and nothing else: `env`, `build_name`, `build_type`,
 *   `packer_version` and `build` fail as they do in Packer; `{{ .X }}` prints `<no value>`;
 * - the variables are those Packer's core computed: when the template cannot be initialized (a
 *   required variable unset, `min_packer_version` too high) only the `-var`/`-var-file` values;
 *   otherwise every variable with its rendered default (a default that fails to render is left
 *   out); the values of `sensitive-variables` are printed as `<sensitive>` then;
 * - `help` prints Packer's help text, `variables` the variables (`name: value,` lines, sorted —
 *   Packer prints them in Go's random map order), `exit` leaves the interactive console;
 * - an error is printed on stdout as Packer prints it, an HCL diagnostic of no severity
 *   ("???????: Interpolation error", the Go template error wrapped at 80 columns), and does not
 *   change the exit status;
 * - Packer 1.6.6 reads stdin "piped" only when it is a named pipe (FIFO): then `exit` is ignored
 *   and only the last line's result is printed, after the errors. Any other stdin (a terminal,
 *   a file, a socket) is read as its interactive console: each result (an empty one too) is
 *   printed after its line and `exit` ends the session.
 *
 * Without a template (`-config-type=json`), Packer evaluates against its smallest template:
 * no variables other than `-var`/`-var-file` and no template path.
 */
import { createInterface } from 'node:readline';
import semverCompare from 'semver/functions/compare.js';
import { Masker } from '../../ui/mask.js';
import { PACKER_LANGUAGE_VERSION } from '../../version.js';
import type { VariableInput } from '../loader.js';
import { legacyFunctions } from './functions.js';
import { GoFunctionError, joinParts, renderGo, type GoFunction } from './go-template.js';
import { readLegacyForCommand } from './inspect.js';
import { legacyVariableValues, readLegacyInputs } from './variables.js';
import { goWrapString } from './wordwrap.js';

export const LEGACY_CONSOLE_HELP = `Packer console JSON Mode.
The Packer console allows you to experiment with Packer interpolations.
You may access variables in the Packer config you called the console with.

Type in the interpolation to test and hit <enter> to see the result.

"variables" will dump all available variables and their values.

"{{timestamp}}" will output the timestamp, for example "1559855090".

To exit the console, type "exit" and hit <enter>, or use Control-C.

/!\\ If you would like to start console in hcl2 mode without a config you can
use the --config-type=hcl2 option.`;

export interface LegacyConsoleIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** How Packer 1.6.6 reads stdin: `piped` when it is a named pipe (FIFO), `lines` for any
   * other non-terminal (a file, a socket), `terminal` for a terminal (with the "> " prompt). */
  mode: 'piped' | 'lines' | 'terminal';
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** What one input line gives: its result, the error text to print first, and whether to leave. */
export interface ConsoleAnswer {
  result: string;
  error?: string;
  exit: boolean;
}

/** The evaluator of one console session. */
export class LegacyConsole {
  private readonly functions: Map<string, GoFunction>;

  constructor(
    private readonly variables: ReadonlyMap<string, string>,
    private readonly masker: Masker,
    templatePath: string | undefined,
    base: { env: NodeJS.ProcessEnv; cwd: string; initTime: Date },
  ) {
    const fail = (message: string): GoFunction => ({
      arity: 0,
      variadic: true,
      call: () => {
        throw new GoFunctionError(message);
      },
    });
    this.functions = legacyFunctions({ ...base, user: variables, enableEnv: false, templatePath: templatePath ?? '', version: PACKER_LANGUAGE_VERSION });
    this.functions.set('packer_version', fail('packer_version not available'));
    if (templatePath === undefined) this.functions.set('template_dir', fail('template path not available'));
    const build = this.functions.get('build')!;
    this.functions.set('build', {
      ...build,
      call: ([k]) => {
        throw new GoFunctionError(`Error validating build variable: the given variable ${String(k)} will not be passed into your plugin.`);
      },
    });
  }

  answer(line: string): ConsoleAnswer {
    if (line === '') return { result: '', exit: false };
    if (line === 'exit') return { result: '', exit: true };
    if (line === 'help') return { result: LEGACY_CONSOLE_HELP, exit: false };
    if (line === 'variables') {
      const names = [...this.variables.keys()].sort();
      return { result: `\n${names.map((k) => `${k}: ${this.variables.get(k)!},\n`).join('')}`, exit: false };
    }
    const r = renderGo(line, 'root', { functions: this.functions, field: () => '<no value>' });
    if (r.error) return { result: '', error: `???????: Interpolation error\n\n${goWrapString(r.error, 80)}\n\n`, exit: false };
    return { result: joinParts(r.parts), exit: false };
  }

  /** Text as Packer's UI writes it: sensitive values masked. */
  say(text: string): string {
    return `${this.masker.mask(text)}\n`;
  }
}

/** The user variables Packer 1.6.6's core holds after an Initialize whose errors are ignored. */
function consoleVariables(
  fullPath: string | undefined,
  inputs: readonly VariableInput[],
  io: LegacyConsoleIo,
  initTime: Date,
): { variables?: Map<string, string>; secrets: string[]; stderr: string; templatePath?: string } {
  if (fullPath === undefined) {
    const read = readLegacyInputs(inputs, io.cwd);
    if (read.diagnostics.length > 0) return { stderr: read.diagnostics.map((d) => `${d.summary}: ${d.detail ?? ''}\n`).join(''), secrets: [] };
    return { variables: read.given, secrets: [], stderr: '' };
  }
  const { template, inputs: read, stderr } = readLegacyForCommand(fullPath, inputs, io.cwd);
  if (!template || !read) return { stderr, secrets: [] };
  let tooOld = false;
  if (template.minVersion) {
    try {
      tooOld = semverCompare(PACKER_LANGUAGE_VERSION, template.minVersion.replace(/^v/, ''), true) < 0;
    } catch {
      tooOld = true;
    }
  }
  const missing = template.variables.some((v) => v.default === undefined && !read.given.has(v.name));
  if (tooOld || missing) return { variables: read.given, secrets: [], stderr, templatePath: fullPath };
  const vals = legacyVariableValues(template, inputs, { env: io.env, templatePath: fullPath, cwd: io.cwd, initTime, version: PACKER_LANGUAGE_VERSION });
  // A default that does not parse as a Go template stops Packer before its init, like an unset
  // required variable; one that fails while executing aborts the init before it records secrets.
  const failed = vals.diagnostics.length > 0;
  if (failed && !vals.diagnostics.every((d) => (d.detail ?? '').includes(': executing "root" at <'))) {
    return { variables: read.given, secrets: [], stderr, templatePath: fullPath };
  }
  const secrets = failed ? [] : template.sensitiveVariables.map((n) => vals.values.get(n) ?? '');
  // Packer's core also holds an empty-named variable once its init ran on a non-empty set (its
  // `variables` listing shows ": ,").
  if (failed || vals.values.size > 0) vals.values.set('', '');
  return { variables: vals.values, secrets, stderr, templatePath: fullPath };
}

/** Runs the console; `fullPath` is the legacy template (undefined: none). Returns the exit status. */
export async function runLegacyConsole(fullPath: string | undefined, inputs: readonly VariableInput[], io: LegacyConsoleIo): Promise<number> {
  const initTime = new Date();
  const vars = consoleVariables(fullPath, inputs, io, initTime);
  if (vars.stderr) io.stderr.write(vars.stderr);
  if (!vars.variables) return 1;
  const masker = new Masker();
  masker.add(vars.secrets);
  const session = new LegacyConsole(vars.variables, masker, vars.templatePath, { env: io.env, cwd: io.cwd, initTime });
  const interactive = io.mode === 'terminal';
  const rl = createInterface({ input: io.stdin, output: interactive ? io.stdout : undefined, terminal: interactive, prompt: '> ' });
  let last = '';
  if (interactive) rl.prompt();
  for await (const line of rl) {
    const a = session.answer(line.trim());
    if (a.error) io.stdout.write(session.say(a.error));
    if (io.mode === 'piped') {
      last = a.result;
      continue;
    }
    if (a.exit) break;
    io.stdout.write(session.say(a.result));
    if (interactive) rl.prompt();
  }
  rl.close();
  if (io.mode === 'piped') io.stdout.write(session.say(last));
  return 0;
}
