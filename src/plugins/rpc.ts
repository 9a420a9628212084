/**
 * Go's net/rpc over the msgpack codec (ugorji `GoRpc`), on one multiplexed stream.
 *
 * A request is two consecutive msgpack values: the header `{ServiceMethod, Seq}` and the argument.
 * A response is the header `{ServiceMethod, Seq, Error}` and the reply (nil when Error is set).
 * Go structs are msgpack maps keyed by their field names; binary data must be a `Uint8Array`
 * (msgpack `bin`), strings are `str`.
 *
 * Contracts:
 * - `RpcClient.call` settles once: with the reply, with `RemoteError` (the Error string of the
 *   response), or with `PluginGoneError` when the stream ends before the response — never hangs
 *   on a peer that died.
 * - `serveRpc` answers every request; a handler that throws answers with its message as the Error;
 *   an unknown method answers "rpc: can't find method …" as Go does.
 */
import { decodeMultiStream, encode } from '@msgpack/msgpack';
import type { Duplex } from 'node:stream';
import { MuxError } from './mux.js';

export class RemoteError extends Error {
  constructor(readonly method: string, message: string) {
    super(message);
  }
}

export class PluginGoneError extends Error {}

const decodeOptions = { useBigInt64: false, rawStrings: false } as const;

export function encodeValue(value: unknown): Uint8Array {
  return encode(value, { ignoreUndefined: true });
}

function writeValues(stream: Duplex, ...values: unknown[]): void {
  if (stream.destroyed || stream.writableEnded) return;
  stream.write(Buffer.concat(values.map((v) => encodeValue(v))));
}

export interface ResponseHeader {
  ServiceMethod: string;
  Seq: number;
  Error: string;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as Record<string, unknown>) : {};
}

export class RpcClient {
  private seq = 0;
  private readonly pending = new Map<number, { method: string; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private ended: Error | undefined;

  constructor(private readonly stream: Duplex, private readonly describe = 'plugin') {
    void this.readLoop();
  }

  call(method: string, arg: unknown = null): Promise<unknown> {
    if (this.ended) return Promise.reject(this.ended);
    const seq = this.seq++;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { method, resolve, reject });
      writeValues(this.stream, { ServiceMethod: method, Seq: seq }, arg);
    });
  }

  /** Ends the stream; pending calls fail. */
  close(): void {
    this.fail(new PluginGoneError(`the ${this.describe} connection was closed`));
    this.stream.end();
  }

  private fail(err: Error): void {
    if (!this.ended) this.ended = err;
    for (const p of this.pending.values()) p.reject(new PluginGoneError(`${this.describe}: ${p.method} did not complete: ${err.message}`));
    this.pending.clear();
  }

  private async readLoop(): Promise<void> {
    let header: ResponseHeader | undefined;
    try {
      for await (const value of decodeMultiStream<undefined>(this.stream, decodeOptions)) {
        if (!header) {
          const h = asRecord(value);
          header = { ServiceMethod: String(h.ServiceMethod ?? ''), Seq: Number(h.Seq ?? -1), Error: String(h.Error ?? '') };
          continue;
        }
        const p = this.pending.get(header.Seq);
        this.pending.delete(header.Seq);
        if (p) {
          if (header.Error !== '') p.reject(new RemoteError(p.method, header.Error));
          else p.resolve(value);
        }
        header = undefined;
      }
      this.fail(new PluginGoneError('the plugin closed the connection'));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.fail(new PluginGoneError(e instanceof MuxError ? msg : `malformed reply (${msg})`));
    }
  }
}

export type RpcHandler = (arg: unknown) => unknown;

/**
 * Serves `handlers` (keyed "Service.Method") on `stream` until it ends. Resolves when the stream
 * ends; requests are handled concurrently, as Go's server does.
 */
export async function serveRpc(stream: Duplex, handlers: Record<string, RpcHandler>): Promise<void> {
  let header: { ServiceMethod: string; Seq: number } | undefined;
  try {
    for await (const value of decodeMultiStream<undefined>(stream, decodeOptions)) {
      if (!header) {
        const h = asRecord(value);
        header = { ServiceMethod: String(h.ServiceMethod ?? ''), Seq: Number(h.Seq ?? 0) };
        continue;
      }
      const { ServiceMethod, Seq } = header;
      header = undefined;
      const handler = handlers[ServiceMethod];
      if (!handler) {
        writeValues(stream, { ServiceMethod, Seq, Error: `rpc: can't find method ${ServiceMethod}` }, null);
        continue;
      }
      void (async () => {
        try {
          const reply = await handler(value);
          writeValues(stream, { ServiceMethod, Seq, Error: '' }, reply ?? null);
        } catch (e) {
          writeValues(stream, { ServiceMethod, Seq, Error: e instanceof Error ? e.message : String(e) }, null);
        }
      })();
    }
  } catch {
    // The peer went away mid-request: nothing to answer.
  }
}

/** Reads a field of a decoded Go struct (a msgpack map keyed by field names). */
export function field(v: unknown, name: string): unknown {
  return asRecord(v)[name];
}

export function bytesToBuffer(v: unknown): Buffer {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.alloc(0);
}
