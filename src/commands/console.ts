/**
 * `builder console [PATH]`: evaluates expressions against a template (its variables, locals,
 * `path.*` and `packer.version`), or against nothing when no template is given. On a terminal it
 * is interactive (prompt "> ", `exit` or Ctrl-D to leave); otherwise it reads one expression per
 * line from stdin. Each value is printed the way `packer console` prints it; an error is printed
 * as a diagnostic and the console goes on. Exits 1 when some expression failed (non-interactive).
 */
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
import { loadTemplate } from '../template/loader.js';

const INPUT_NAME = '<console-input>';

export const consoleCommand: Command = {
  name: ['console'],
  synopsis: 'Creates a console for testing variable interpolation',
  usage: `Usage: builder console [options] [TEMPLATE]

  Creates an interactive console for evaluating expressions against the variables and locals of
  TEMPLATE (a file or a folder), or against none when TEMPLATE is not given. Reads one expression
  per line from stdin when stdin is not a terminal. Type "exit" or press Ctrl-D to leave.

Options:

${varFlagsUsage}
  -config-type=hcl2      Accepted for compatibility with Packer; templates are read as HCL2.`,
  async run(args, ctx) {
    const parsed = parseFlags(args, { ...varFlagSpecs, 'config-type': { kind: 'string' } });
    if (parsed.args.length > 1) throw new UsageError('console takes at most one TEMPLATE argument');
    const base = { root: ctx.cwd, cwd: ctx.cwd, env: ctx.env };
    let evalCtx: EvalContext = localsContext({ variables: new Map(), locals: new Map() }, base);
    if (parsed.args.length === 1) {
      const { template, diagnostics, sources } = loadTemplate(parsed.args[0]!, { inputs: variableInputs(parsed), env: ctx.env, cwd: ctx.cwd });
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
