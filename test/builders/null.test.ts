import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nullBuilder } from '../../src/builders/null.js';
import { inTempDir, stepContext, testUi } from '../build/helpers.js';

test('null: communicator none connects to nothing and exports nothing', async () => {
  await inTempDir(async (dir) => {
    const t = testUi();
    const cfg = nullBuilder.prepare({ communicator: 'none' }).config!;
    const inst = await nullBuilder.create(cfg);
    const conn = await nullBuilder.connect(cfg, inst, stepContext(dir, t));
    assert.equal(conn.info?.type, 'none');
    const a = (await nullBuilder.finish())!;
    assert.deepEqual([a.builderId, a.id, a.files, a.description], ['fnoeding.null', 'Null', [], 'Did not export anything. This is the null builder']);
  });
});

test('null: an ssh communicator needs a host, a user and one way to log in (Packer\'s checks)', () => {
  assert.deepEqual(nullBuilder.prepare({ communicator: 'ssh' }).errors.slice(0, 3), [
    'a Host must be specified, please reference your communicator documentation',
    'a Username must be specified, please reference your communicator documentation',
    'one authentication method must be specified, please reference your communicator documentation',
  ]);
  assert.ok(
    nullBuilder
      .prepare({ communicator: 'ssh', ssh_host: 'h', ssh_username: 'u', ssh_password: 'p', ssh_agent_auth: true })
      .errors.includes('only one of ssh_agent_auth, ssh_password, and ssh_private_key_file must be specified'),
  );
  assert.match(nullBuilder.prepare({ communicator: 'winrm' }).errors[0]!, /communicator type "winrm" is not supported/);
  assert.ok('ssh_host' in nullBuilder.configSpec.attributes);
});
