/**
 * The `http` data source (Packer's datasource/http): one HTTP request; its outputs are `url`,
 * `body` (the response body as text) and `request_headers` — which, as in Packer, holds the
 * *response* headers (Go's canonical names, repeated headers joined with ", ").
 *
 * Contracts: `method` is one of HEAD, GET, POST, PUT, DELETE, OPTIONS, PATCH (default GET);
 * `request_headers` are sent as given; `request_body`, when not empty, is the payload. A response
 * outside 2xx is an error ("HTTP request error. Response code: 404"), as in Packer; redirects are
 * followed. Node's built-in `fetch` does the request (loaded by Node on first use); it refuses the
 * ports browsers block (1, 6000, 10080…), where Packer's Go client does not.
 */
import type { DataSourceDef } from '../sdk/component.js';
import { ConfigReader, asString, asStringMap } from '../sdk/config-reader.js';
import { T, Value } from '../values/value.js';

export interface HttpDataConfig {
  url: string;
  method: string;
  requestHeaders: Record<string, string>;
  requestBody: string;
}

const METHODS = ['HEAD', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

/** Go's textproto.CanonicalMIMEHeaderKey: "content-type" → "Content-Type". */
export function canonicalHeaderName(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

export const httpDataSource = {
  type: 'http',
  configSpec: {
    attributes: {
      url: { type: 'string', required: true },
      method: { type: 'string' },
      request_headers: { type: 'map(string)' },
      request_body: { type: 'string' },
    },
  },
  outputType: T.object({ url: T.string, body: T.string, request_headers: T.map(T.string) }),
  prepare(raw) {
    const r = new ConfigReader(raw);
    const url = r.get('url', asString) ?? '';
    const method = r.get('method', asString) || 'GET';
    const requestHeaders = r.get('request_headers', asStringMap) ?? {};
    const requestBody = r.get('request_body', asString) ?? '';
    if (url === '') r.errors.push('the `url` must be specified');
    if (!METHODS.includes(method)) r.errors.push(`the \`method\` must be one of [${METHODS.join(' ')}]`);
    if (r.errors.length > 0) return { errors: r.errors, warnings: [] };
    return { config: { url, method, requestHeaders, requestBody }, errors: [], warnings: [] };
  },
  async execute(config, ctx) {
    let res: Response;
    try {
      res = await fetch(config.url, {
        method: config.method,
        headers: config.requestHeaders,
        ...(config.requestBody !== '' ? { body: config.requestBody } : {}),
        signal: ctx.signal,
      });
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      const cause = (e as Error & { cause?: Error }).cause;
      throw new Error(`${config.method} "${config.url}": ${cause?.message ?? (e as Error).message}`);
    }
    const body = await res.text();
    if (res.status < 200 || res.status >= 300) throw new Error(`HTTP request error. Response code: ${res.status}`);
    const headers = new Map<string, string[]>();
    res.headers.forEach((value, name) => {
      const key = canonicalHeaderName(name);
      headers.set(key, [...(headers.get(key) ?? []), value]);
    });
    return Value.object({
      url: Value.string(config.url),
      body: Value.string(body),
      request_headers: Value.map(new Map([...headers].map(([k, v]) => [k, Value.string(v.join(', '))])), T.string),
    });
  },
} satisfies DataSourceDef<HttpDataConfig>;
