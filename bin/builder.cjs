#!/bin/sh
':' //; if [ -n "${NODE_EXTRA_CA_CERTS-}" ]; then BUILDER_NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS; export BUILDER_NODE_EXTRA_CA_CERTS; unset NODE_EXTRA_CA_CERTS; else unset BUILDER_NODE_EXTRA_CA_CERTS; fi; exec node "$0" "$@"
'use strict';
/*
 * builder's executable. Runs the single-file bundle dist/bin/builder.cjs (made by
 * scripts/bundle.mjs from src/cli/bin.ts) through vm.Script with the V8 code cache written next
 * to it at build time, so that start-up skips parsing and compiling the code it runs. A cache V8
 * rejects (another Node version, other V8 flags) is ignored and the bundle compiles as usual.
 *
 * The file is both a shell script and JavaScript. Run as a program, /bin/sh reads the second line
 * (`:` is the shell's no-op; to JavaScript the line is a string and a comment) and starts Node
 * without NODE_EXTRA_CA_CERTS: Node 20 reads and parses that certificate file at start-up, before
 * any code runs — about 85 ms on a machine whose variable names the system CA bundle — and builder
 * makes no TLS connection. The value travels in BUILDER_NODE_EXTRA_CA_CERTS and is put back below,
 * before anything runs, so the processes builder starts (provisioners, post-processors) get the
 * environment the user set. Run as `node bin/builder.cjs`, the second line is only a comment.
 */
if (process.env.BUILDER_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.BUILDER_NODE_EXTRA_CA_CERTS;
  delete process.env.BUILDER_NODE_EXTRA_CA_CERTS;
}
const { isAscii } = require('node:buffer');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire, Module } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'bin', 'builder.cjs');
const cacheFile = `${bundle}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// The bundle is ASCII (scripts/bundle.mjs checks): read as Latin-1 it becomes a one-byte string,
// made without a UTF-8 decoding pass over a megabyte; any other file is read as UTF-8.
const bytes = readFileSync(bundle);
const source = isAscii(bytes) ? bytes.latin1Slice(0, bytes.length) : bytes.toString('utf8');
const script = new Script(Module.wrap(source), { filename: bundle, cachedData });
if (process.env.BUILDER_WRITE_CODE_CACHE === '1') {
  process.on('exit', () => {
    writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
    renameSync(`${cacheFile}.tmp`, cacheFile);
  });
}
const bundleModule = { exports: {} };
script.runInThisContext()(bundleModule.exports, createRequire(bundle), bundleModule, bundle, dirname(bundle));
