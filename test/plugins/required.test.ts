/** `required_plugins` resolution (src/plugins/required.ts) against described plugin binaries. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DescribedPlugin } from '../../src/plugins/discovery.js';
import { installCommand, pluginNameOf, resolveRequired } from '../../src/plugins/required.js';

function plugin(name: string, version: string, path = `/h/.packer.d/plugins/github.com/hashicorp/${name}/packer-plugin-${name}_v${version}_x5.0_linux_amd64`): DescribedPlugin {
  return { binary: { path, name, version }, version, described: { version, builders: ['ebs', '-packer-default-plugin-name-'], post_processors: ['import'] } };
}

describe('required_plugins', () => {
  // Best first, as discovery sorts them.
  const found = [plugin('amazon', '1.3.0'), plugin('amazon', '1.2.8'), plugin('amazon', '0.9.0')];

  it('selects the highest version meeting the constraint, naming components with the local name', () => {
    const r = resolveRequired([{ name: 'aws', source: 'github.com/hashicorp/amazon', version: '~> 1.2.0' }], found);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.selected.get('aws')!.version, '1.2.8');
    assert.deepEqual(r.sources.map((s) => `${s.kind} ${s.type} ${s.args.join(' ')}`), [
      'builder aws-ebs start builder ebs',
      'builder aws start builder -packer-default-plugin-name-',
      'post-processor aws-import start post-processor import',
    ]);
    assert.equal(resolveRequired([{ name: 'amazon', source: 'github.com/hashicorp/amazon', version: '>= 1.0.0, < 1.3.0' }], found).selected.get('amazon')!.version, '1.2.8');
    assert.equal(resolveRequired([{ name: 'amazon', source: 'github.com/hashicorp/amazon' }], found).selected.get('amazon')!.version, '1.3.0');
  });

  it('ignores a binary installed under another source', () => {
    const other = plugin('amazon', '9.0.0', '/h/.packer.d/plugins/github.com/someone/amazon/packer-plugin-amazon_v9.0.0_x5.0_linux_amd64');
    const r = resolveRequired([{ name: 'amazon', source: 'github.com/hashicorp/amazon' }], [other, ...found]);
    assert.equal(r.selected.get('amazon')!.version, '1.3.0');
  });

  it('reports a missing plugin with the command that installs it', () => {
    const range = { filename: 't.pkr.hcl', start: { line: 3, column: 5, byte: 20 }, end: { line: 3, column: 60, byte: 75 } };
    const r = resolveRequired([{ name: 'amazon', source: 'github.com/hashicorp/amazon', version: '>= 2.0.0', range }], found);
    assert.equal(r.diagnostics.length, 1);
    const d = r.diagnostics[0]!;
    assert.equal(d.summary, 'Missing plugin github.com/hashicorp/amazon >= 2.0.0');
    assert.equal(d.subject, range);
    assert.match(d.detail!, /but only v1\.3\.0 \(.*\), v1\.2\.8 \(.*\), v0\.9\.0 \(.*\) is installed\. Install it with:\n {2}packer plugins install github\.com\/hashicorp\/amazon '>= 2\.0\.0'$/);
    const none = resolveRequired([{ name: 'docker', source: 'github.com/hashicorp/docker', version: '1.0.1' }], found).diagnostics[0]!;
    assert.match(none.detail!, /which is not installed\. Install it with:\n {2}packer plugins install github\.com\/hashicorp\/docker v1\.0\.1$/);
  });

  it('refuses an entry without source, and a constraint that is not one', () => {
    assert.match(resolveRequired([{ name: 'amazon', version: '>= 1.0.0' }], found).diagnostics[0]!.summary, /Missing source for required plugin "amazon"/);
    assert.equal(resolveRequired([{ name: 'amazon', source: 'github.com/hashicorp/amazon', version: 'latest' }], found).diagnostics[0]!.summary, 'Invalid version constraint');
  });

  it('names plugins and install commands as Packer does', () => {
    assert.equal(pluginNameOf('github.com/hashicorp/amazon'), 'amazon');
    assert.equal(pluginNameOf('github.com/org/packer-plugin-foo'), 'foo');
    assert.equal(installCommand('github.com/hashicorp/amazon', undefined), 'packer plugins install github.com/hashicorp/amazon');
    assert.equal(installCommand('github.com/hashicorp/amazon', '= 1.2.3'), 'packer plugins install github.com/hashicorp/amazon v1.2.3');
  });
});
