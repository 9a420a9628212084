/**
 * `builder console [PATH]`: evaluates expressions against a template (its variables, locals,
 * `path.*` and `packer.version`), or against nothing when no template is given. On a terminal it
 * is interactive (prompt "> ", `exit` or Ctrl-D to leave); otherwise it reads one expression per
 * line from stdin. Each value is printed the way `packer console` prints it; an error is printed
 * as a diagnostic and the console goes on. Exits 1 when some expression failed (non-interactive).
 * A legacy JSON template gets Packer 1.6.6's JSON-mode console (src/template/legacy/console.ts).
 */
import { fstatSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from '../cli/command.js';
import { UsageError } from '../errors.js';
import { parseFlags } from '../cli/flags.js';
import { varFlagSpecs, varFlagsUsage, variableInputs } from '../cli/template-flags.js';
import { formatDiagnostics, hasErrors } from '../diagnostics.js';
import { evaluate, type EvalContext } from '../hcl/eval.js';
import { parseExpression } from '../hcl/parser.js';
import { displayValue } from '../values/display.js';
import { localsContext } from '../template/context.js';
import { legacyTemplateFile } from '../template/legacy/detect.js';
import { dataSourceLoading } from '../datasources/loading.js';
import { loadTemplate } from '../template/loader.js';

const INPUT_NAME = '<console-input>';

/** True when `stdin` is the process's stdin and a named pipe, or a stream given by a caller. */
function stdinIsFifo(stdin: unknown): boolean {
  if (stdin !== process.stdin) return true;
  try {
    return fstatSync(0).isFIFO();
  } catch {
    return false;
  }
}

export const consoleCommand: Command = {
  name: ['console'],
  synopsis: 'Creates a console for testing variable interpolation',
  usage: `Usage: builder console [options] [TEMPLATE]

  Creates an interactive console for evaluating expressions against the variables and locals of
  TEMPLATE (a file or a folder), or against none when TEMPLATE is not given. Reads one expression
  per line from stdin when stdin is not a terminal. Type "exit" or press Ctrl-D to leave.

Options:

${varFlagsUsage}
  -config-type=hcl2|json Without TEMPLATE: hcl2 (the default) evaluates HCL2 expressions, json
                         Packer 1.6.6's legacy {{ }} interpolations.

  On a legacy JSON template the console works as Packer 1.6.6's JSON-mode console: each line
  is a legacy interpolation ({{user \`name\`}}, {{timestamp}}, …); piped, only the last
  line's result is printed (errors are printed as they come).`,
  async run(args, ctx) {
    const parsed = parseFlags(args, { ...varFlagSpecs, 'config-type': { kind: 'string' } });
    if (parsed.args.length > 1) throw new UsageError('console takes at most one TEMPLATE argument');
    const configType = parsed.flags['config-type'];
    if (configType !== undefined && configType !== 'hcl2' && configType !== 'json') throw new UsageError(`-config-type must be hcl2 or json, not "${configType}"`);
    const legacy = parsed.args.length === 1 ? legacyTemplateFile(parsed.args[0]!, ctx.cwd) : undefined;
    if (legacy || (parsed.args.length === 0 && configType === 'json')) {
      // Loaded only for legacy JSON templates, off the start-up path of HCL2 ones.
      const { runLegacyConsole } = await import('../template/legacy/console.js');
      return runLegacyConsole(legacy, variableInputs(parsed), { ...ctx, mode: ctx.stdinIsTTY ? 'terminal' : stdinIsFifo(ctx.stdin) ? 'piped' : 'lines' });
    }
    const base = { root: ctx.cwd, cwd: ctx.cwd, env: ctx.env };
    let evalCtx: EvalContext = localsContext({ variables: new Map(), locals: new Map() }, base);
    if (parsed.args.length === 1) {
      // As Packer's console, data sources are executed: data.T.N shows their results.
      const { template, diagnostics, sources } = await loadTemplate(parsed.args[0]!, { inputs: variableInputs(parsed), env: ctx.env, cwd: ctx.cwd, dataSources: dataSourceLoading(ctx, true, parsed.flags['use-sequential-evaluation']) });
      if (diagnostics.length > 0) ctx.stderr.write(formatDiagnostics(diagnostics, sources));
      if (!template || hasErrors(diagnostics)) return 1;
      evalCtx = localsContext(template, { root: template.root, cwd: ctx.cwd, env: ctx.env });
    }

    const interactive = ctx.stdinIsTTY;
    const rl = createInterface({ input: ctx.stdin, output: interactive ? ctx.stdout : undefined, terminal: interactive, prompt: '> ' });
    let failed = false;
    if (interactive) rl.prompt();
    for await (const line of rl) {
      const text = line.trim();
      if (text === 'exit') break;
      if (text !== '') {
        const p = parseExpression(text, INPUT_NAME);
        const diags = [...p.diagnostics];
        if (!hasErrors(diags)) {
          const r = evaluate(p.expr, evalCtx);
          diags.push(...r.diagnostics);
          if (!hasErrors(r.diagnostics)) ctx.stdout.write(`${displayValue(r.value)}\n`);
        }
        if (diags.length > 0) ctx.stderr.write(formatDiagnostics(diags, (f) => (f === INPUT_NAME ? text : undefined)));
        if (hasErrors(diags)) failed = true;
      }
      if (interactive) rl.prompt();
    }
    rl.close();
    return failed && !interactive ? 1 : 0;
  },
};
