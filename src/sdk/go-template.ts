/**
 * The small part of Go's text/template that Packer's `execute_command` and similar fields use:
 * `{{.Field}}` / `{{ .Field }}` replaced by a known value. An unknown field is an error with Go's
 * wording; any other text is kept as it is.
 */
export function renderGoTemplate(text: string, data: Readonly<Record<string, string>>): { text: string; error?: string } {
  let error: string | undefined;
  const out = text.replace(/\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}/g, (m, field: string) => {
    if (Object.hasOwn(data, field)) return data[field]!;
    error ??= `template: root:1:${text.indexOf(m) + 3}: executing "root" at <.${field}>: can't evaluate field ${field}`;
    return m;
  });
  return { text: out, error };
}
