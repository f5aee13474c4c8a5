// Puts the runtime into the Python package, so `pip install skiff-jupyterlab` brings a working
// `skiff` (it needs only Node.js): the CLI bundle and its launcher, Skiff's Python helper that travels with
// every job, and the offline image recipes. The server extension and the magic find them there.
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const runtime = fileURLToPath(new URL('../../runtime/', import.meta.url));
const out = fileURLToPath(new URL('../skiff_jupyterlab/runtime/', import.meta.url));
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
for (const file of ['skiff.mjs', 'skiff-main.cjs']) cpSync(`${runtime}dist/cli/${file}`, `${out}${file}`);
cpSync(`${runtime}python/skiff`, `${out}python/skiff`, { recursive: true, filter: (src) => !src.includes('__pycache__') });
cpSync(`${runtime}images`, `${out}images`, { recursive: true });
