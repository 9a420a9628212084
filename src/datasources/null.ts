/**
 * The `null` data source (Packer's datasource/null, the test helper Packer core ships): its
 * `input` string comes back as `output`. Useful to try data-source wiring without reaching out.
 */
import type { DataSourceDef } from '../sdk/component.js';
import { ConfigReader, asString } from '../sdk/config-reader.js';
import { T, Value } from '../values/value.js';

export interface NullDataConfig {
  input: string;
}

export const nullDataSource = {
  type: 'null',
  configSpec: { attributes: { input: { type: 'string', required: true } } },
  outputType: T.object({ output: T.string }),
  prepare(raw) {
    const r = new ConfigReader(raw);
    const input = r.get('input', asString) ?? '';
    // Packer's own words.
    if (input === '' && r.errors.length === 0) r.errors.push('The `input` must be specified');
    return r.errors.length > 0 ? { errors: r.errors, warnings: [] } : { config: { input }, errors: [], warnings: [] };
  },
  async execute(config) {
    return Value.object({ output: Value.string(config.input) });
  },
} satisfies DataSourceDef<NullDataConfig>;
