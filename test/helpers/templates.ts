/** HCL templates the end-to-end tests write into their work folders. */

/**
 * A template of one null source `a` (no communicator) and one build of it that runs `steps` in
 * order: each step is one shell-local provisioner, given as its `inline` commands. The commands
 * are written as HCL strings (quotes and backslashes escaped; `${…}` is left for HCL to
 * interpolate).
 *
 *   nullShellLocal(['echo one >> steps.log'], ['test -f ok'])
 */
export function nullShellLocal(...steps: readonly (readonly string[])[]): string {
  const provisioners = steps.map((inline) => `  provisioner "shell-local" { inline = [${inline.map((c) => JSON.stringify(c)).join(', ')}] }\n`);
  return `source "null" "a" { communicator = "none" }\nbuild {\n  sources = ["source.null.a"]\n${provisioners.join('')}}\n`;
}
