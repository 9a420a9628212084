#!/usr/bin/env node
'use strict';
/*
 * builder's executable. Runs the single-file bundle dist/bin/builder.cjs (made by
 * scripts/bundle.mjs from src/cli/bin.ts) through vm.Script with the V8 code cache written next
 * to it at build time, so that start-up skips parsing and compiling the code it runs. A cache V8
 * rejects (another Node version, other V8 flags) is ignored and the bundle compiles as usual.
 */
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
const source = readFileSync(bundle, 'utf8');
const script = new Script(Module.wrap(source), { filename: bundle, cachedData });
if (process.env.BUILDER_WRITE_CODE_CACHE === '1') {
  process.on('exit', () => {
    writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
    renameSync(`${cacheFile}.tmp`, cacheFile);
  });
}
const bundleModule = { exports: {} };
script.runInThisContext()(bundleModule.exports, createRequire(bundle), bundleModule, bundle, dirname(bundle));
