import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMulti } from '@msgpack/msgpack';
import { Broker } from '../../src/plugins/broker.js';
import { Session } from '../../src/plugins/mux.js';
import { PluginGoneError, RemoteError, RpcClient, encodeValue, serveRpc } from '../../src/plugins/rpc.js';
import { duplexPair } from './pair.js';

function pair(split?: number): { client: Session; server: Session; close(): void } {
  const [a, b] = duplexPair(split);
  const client = new Session(a, { client: true });
  const server = new Session(b, { client: false });
  return { client, server, close: () => client.close() };
}

describe('net/rpc over msgpack', () => {
  it('writes a request as two msgpack values, keeping bin apart from str', () => {
    const bytes = Buffer.concat([encodeValue({ ServiceMethod: 'Provisioner.Prepare', Seq: 0 }), encodeValue({ Configs: [{ a: 'x' }, new Uint8Array([1, 2])] })]);
    const values = [...decodeMulti(bytes)];
    assert.deepEqual(values[0], { ServiceMethod: 'Provisioner.Prepare', Seq: 0 });
    const configs = (values[1] as { Configs: unknown[] }).Configs;
    assert.ok(configs[1] instanceof Uint8Array);
    assert.equal(typeof (configs[0] as { a: unknown }).a, 'string');
  });

  it('calls concurrently, answers errors and unknown methods as Go does', async () => {
    const p = pair(5);
    void p.server.accept().then((s) => serveRpc(s, {
      'Svc.Echo': async (x) => { await new Promise((r) => setTimeout(r, 5)); return x; },
      'Svc.Fail': () => { throw new Error('it broke'); },
    }));
    const rpc = new RpcClient(p.client.open());
    const bin = new Uint8Array([0, 255, 7]);
    const [r1, r2] = await Promise.all([rpc.call('Svc.Echo', { Data: bin, S: 'text' }), rpc.call('Svc.Echo', 42)]);
    assert.deepEqual(r1, { Data: Buffer.from(bin), S: 'text' });
    assert.equal(r2, 42);
    await assert.rejects(rpc.call('Svc.Fail'), (e: unknown) => e instanceof RemoteError && e.message === 'it broke');
    await assert.rejects(rpc.call('Svc.Nope'), /can't find method Svc.Nope/);
    p.close();
  });

  it('fails pending calls when the peer goes away, instead of hanging', async () => {
    const p = pair();
    p.server.accept().catch(() => undefined); // never answers
    const rpc = new RpcClient(p.client.open());
    const call = rpc.call('Svc.Slow');
    p.server.close();
    await assert.rejects(call, (e: unknown) => e instanceof PluginGoneError);
    await assert.rejects(rpc.call('Svc.After'), (e: unknown) => e instanceof PluginGoneError);
  });

  it('connects broker streams by id in both directions, with the 4-byte acknowledgement', async () => {
    const p = pair(3);
    const parent = new Broker(p.client);
    const plugin = new Broker(p.server);
    const id = parent.nextId();
    assert.equal(id, 1);
    const [accepted, dialled] = await Promise.all([parent.accept(id), plugin.dial(id)]);
    dialled.write('from plugin');
    const got = await new Promise<string>((r) => accepted.once('data', (c: Buffer) => r(c.toString())));
    assert.equal(got, 'from plugin');
    // A stream dialled before the accept waits for it.
    const early = parent.dial(7);
    await new Promise((r) => setTimeout(r, 20));
    const late = await plugin.accept(7);
    await early;
    assert.equal(late.id % 2, 1);
    p.close();
    await assert.rejects(parent.accept(9), /closed/);
  });
});
