/**
 * Counting the bytes that flow through a stream, for transfer progress. Contract: the returned
 * stream carries every byte of `source` unchanged; `onBytes` gets the running total after each
 * chunk; an error of `source` destroys the returned stream with that error.
 */
import { Transform, type Readable } from 'node:stream';

export function countBytes(source: Readable, onBytes: (total: number) => void): Readable {
  let total = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      onBytes(total);
      done(null, chunk);
    },
  });
  source.on('error', (err) => counter.destroy(err));
  return source.pipe(counter);
}
