/**
 * The `http` and `null` data sources, against a loopback HTTP server only.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { canonicalHeaderName, httpDataSource } from '../../src/datasources/http.js';
import { nullDataSource } from '../../src/datasources/null.js';
import type { DataSourceContext } from '../../src/sdk/component.js';

const ctx: DataSourceContext = { signal: new AbortController().signal, cwd: process.cwd(), env: {} };

describe('data sources: null and http', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ method: string; headers: Record<string, unknown>; body: string }> = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        seen.push({ method: req.method ?? '', headers: req.headers, body });
        if (req.url === '/missing') { res.writeHead(404).end('no'); return; }
        if (req.url === '/redirect') { res.writeHead(302, { location: '/ok' }).end(); return; }
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-multi', ['a', 'b']);
        res.end(JSON.stringify({ method: req.method, body }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('null: input comes back as output; input is required, in Packer\'s words', async () => {
    const p = nullDataSource.prepare({ input: 'x' });
    assert.deepEqual((await nullDataSource.execute(p.config!)).toJS(), { output: 'x' });
    assert.deepEqual(nullDataSource.prepare({}).errors, ['The `input` must be specified']);
  });

  it('http: GET with request headers; outputs url, body and the response headers (canonical names, repeats joined)', async () => {
    const p = httpDataSource.prepare({ url: `${base}/ok`, request_headers: { Accept: 'application/json', 'X-Token': 't' } });
    assert.deepEqual(p.errors, []);
    const v = (await httpDataSource.execute(p.config!, ctx)).toJS() as { url: string; body: string; request_headers: Record<string, string> };
    assert.equal(v.url, `${base}/ok`);
    assert.deepEqual(JSON.parse(v.body), { method: 'GET', body: '' });
    assert.equal(v.request_headers['Content-Type'], 'application/json');
    assert.equal(v.request_headers['X-Multi'], 'a, b');
    assert.equal(seen.at(-1)!.headers['x-token'], 't');
  });

  it('http: another method with a request body; redirects are followed', async () => {
    const p = httpDataSource.prepare({ url: `${base}/ok`, method: 'POST', request_body: 'payload' });
    const v = (await httpDataSource.execute(p.config!, ctx)).toJS() as { body: string };
    assert.deepEqual(JSON.parse(v.body), { method: 'POST', body: 'payload' });
    const r = (await httpDataSource.execute(httpDataSource.prepare({ url: `${base}/redirect` }).config!, ctx)).toJS() as { body: string };
    assert.deepEqual(JSON.parse(r.body), { method: 'GET', body: '' });
  });

  it('http: a status outside 2xx, an unreachable URL, a bad method and a missing url are errors', async () => {
    await assert.rejects(httpDataSource.execute(httpDataSource.prepare({ url: `${base}/missing` }).config!, ctx), /^Error: HTTP request error. Response code: 404$/);
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(httpDataSource.execute(httpDataSource.prepare({ url: `http://127.0.0.1:${port}/` }).config!, ctx), /GET "http:\/\/127\.0\.0\.1:\d+\/": .*ECONNREFUSED/);
    assert.deepEqual(httpDataSource.prepare({ url: base, method: 'FETCH' }).errors, ['the `method` must be one of [HEAD GET POST PUT DELETE OPTIONS PATCH]']);
    assert.deepEqual(httpDataSource.prepare({}).errors, ['the `url` must be specified']);
  });

  it('canonical header names as Go writes them', () => {
    assert.equal(canonicalHeaderName('content-type'), 'Content-Type');
    assert.equal(canonicalHeaderName('x-request-id'), 'X-Request-Id');
    assert.equal(canonicalHeaderName('etag'), 'Etag');
  });
});
