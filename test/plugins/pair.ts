/**
 * Two connected in-memory byte streams for multiplexer tests. `split` cuts every chunk written
 * towards the other side into pieces of that size (frames then arrive split across reads).
 */
import { Duplex, PassThrough, Transform } from 'node:stream';

function splitter(size: number): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (let i = 0; i < chunk.length; i += size) this.push(chunk.subarray(i, i + size));
      cb();
    },
  });
}

export function duplexPair(split?: number): [Duplex, Duplex] {
  const aToB = split ? splitter(split) : new PassThrough();
  const bToA = split ? splitter(split) : new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  // Tearing one end down aborts the other's inner streams; the sessions report that themselves.
  for (const s of [a, b, aToB, bToA]) s.on('error', () => undefined);
  return [a, b];
}

/** Reads a stream to its end without destroying it (it may still be written to). */
export function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  return new Promise((resolve, reject) => {
    s.on('data', (c: Buffer) => parts.push(c));
    s.on('end', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
}
