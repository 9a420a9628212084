import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Flag, FrameReader, FrameType, HEADER_SIZE, INITIAL_WINDOW, Session, decodeHeader, encodeHeader } from '../../src/plugins/mux.js';
import { duplexPair, readAll } from './pair.js';

function frame(type: number, flags: number, streamId: number, payload: Buffer | number): Buffer {
  const data = typeof payload === 'number' ? undefined : payload;
  const h = encodeHeader({ version: 0, type, flags, streamId, length: data ? data.length : (payload as number) });
  return data ? Buffer.concat([h, data]) : h;
}

describe('yamux frames', () => {
  it('encodes the 12-byte big-endian header', () => {
    const h = encodeHeader({ version: 0, type: 1, flags: Flag.syn | Flag.fin, streamId: 0x01020304, length: 0x0a0b0c0d });
    assert.equal(h.toString('hex'), '000100050102030' + '40a0b0c0d');
    assert.deepEqual(decodeHeader(h), { version: 0, type: 1, flags: 5, streamId: 0x01020304, length: 0x0a0b0c0d });
  });

  it('reassembles frames split at every byte and merged in one chunk', () => {
    const bytes = Buffer.concat([
      frame(FrameType.data, Flag.syn, 1, Buffer.from('hello')),
      frame(FrameType.windowUpdate, 0, 1, 4096),
      frame(FrameType.data, 0, 3, Buffer.alloc(0)),
      frame(FrameType.data, Flag.fin, 1, Buffer.from('world!')),
    ]);
    const whole = new FrameReader().push(bytes);
    const r = new FrameReader();
    const split = [...bytes].flatMap((b) => r.push(Buffer.from([b])));
    for (const frames of [whole, split]) {
      assert.deepEqual(frames.map((f) => [f.header.type, f.header.flags, f.header.streamId, f.header.length, f.payload.toString()]), [
        [0, 1, 1, 5, 'hello'],
        [1, 0, 1, 4096, ''],
        [0, 0, 3, 0, ''],
        [0, 4, 1, 6, 'world!'],
      ]);
    }
  });
});

describe('yamux session', () => {
  it('opens, exchanges data both ways and ends streams with FIN, with frames split in 7-byte reads', async () => {
    const [a, b] = duplexPair(7);
    const client = new Session(a, { client: true });
    const server = new Session(b, { client: false });
    const s = client.open();
    assert.equal(s.id, 1);
    s.end('ping from client');
    const r = await server.accept();
    assert.equal((await readAll(r)).toString(), 'ping from client');
    r.end('pong');
    assert.equal((await readAll(s)).toString(), 'pong');
    assert.equal(client.open().id, 3);
    client.close();
  });

  it('moves more than the window (1 MiB) and holds the sender to the window while the reader is paused', async () => {
    const [a, b] = duplexPair();
    const client = new Session(a, { client: true });
    const server = new Session(b, { client: false });
    const data = randomBytes(1024 * 1024);
    const s = client.open();
    let written = false;
    s.end(data, () => { written = true; });
    const r = await server.accept();
    // Nobody reads: the sender stops at the window.
    await new Promise((res) => setImmediate(res));
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(written, false);
    assert.ok(r.readableLength <= INITIAL_WINDOW, `buffered ${r.readableLength}`);
    const got = await readAll(r);
    assert.equal(got.length, data.length);
    assert.ok(got.equals(data));
    client.close();
  });

  it('keeps concurrent streams apart', async () => {
    const [a, b] = duplexPair(1000);
    const client = new Session(a, { client: true });
    const server = new Session(b, { client: false });
    const payloads = Array.from({ length: 10 }, (_, i) => randomBytes(20_000 + i * 1000));
    const streams = payloads.map(() => client.open());
    // Interleave writes across the streams.
    for (let off = 0; off < 30_000; off += 3000) streams.forEach((s, i) => s.write(payloads[i]!.subarray(off, off + 3000)));
    streams.forEach((s) => s.end());
    const received = await Promise.all(payloads.map(async () => {
      const r = await server.accept();
      return { id: r.id, data: await readAll(r) };
    }));
    for (const { id, data } of received) assert.ok(data.equals(payloads[(id - 1) / 2]!), `stream ${id}`);
    client.close();
  });

  it('answers pings with ACK and the same value', async () => {
    const [a, raw] = duplexPair();
    new Session(a, { client: true });
    const reader = new FrameReader();
    const pong = new Promise<{ type: number; flags: number; length: number }>((resolve) => {
      raw.on('data', (c: Buffer) => { for (const f of reader.push(c)) resolve(f.header); });
    });
    raw.write(frame(FrameType.ping, Flag.syn, 0, 0xdeadbeef));
    const h = await pong;
    assert.deepEqual([h.type, h.flags, h.length], [FrameType.ping, Flag.ack, 0xdeadbeef]);
  });

  it('fails a stream on RST, refuses opens after go-away, and fails everything when the connection ends', async () => {
    const [a, raw] = duplexPair();
    const session = new Session(a, { client: true });
    const s = session.open();
    const failed = new Promise<Error>((resolve) => s.on('error', resolve));
    raw.write(frame(FrameType.windowUpdate, Flag.rst, s.id, 0));
    assert.match((await failed).message, /reset/);

    raw.write(frame(FrameType.goAway, 0, 0, 0));
    await new Promise((res) => setImmediate(res));
    assert.throws(() => session.open(), /go-away/);

    const pending = session.accept();
    raw.end();
    await assert.rejects(pending, /closed/);
    assert.equal(session.closed, true);
  });

  it('accepts a stream whose SYN arrives on a data frame', async () => {
    const [a, raw] = duplexPair();
    const session = new Session(a, { client: true });
    raw.write(Buffer.concat([frame(FrameType.data, Flag.syn, 2, Buffer.from('abc')), frame(FrameType.data, Flag.fin, 2, Buffer.from('def'))]));
    const s = await session.accept();
    assert.equal((await readAll(s)).toString(), 'abcdef');
    assert.equal(HEADER_SIZE, 12);
  });
});
