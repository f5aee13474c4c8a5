#!/usr/bin/env node
// What `skiff` starts: V8's compiled code for the CLI bundle, cached by v8-compile-cache, so that
// every command skips most of compiling the ~5 MB bundle (~50 ms a command here). Node 20 caches
// compiled code only for CommonJS modules, hence a CommonJS bundle behind this ES module.
import 'v8-compile-cache';
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./skiff-main.cjs');
