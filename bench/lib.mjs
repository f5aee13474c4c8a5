// Shared helpers for the benchmarks: run a command, time until a line appears, write results.
// Benchmarks compare Skiff with the baseline in the same run on the same machine: only ratios mean much.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
export const CLI = join(REPO, 'runtime/dist/cli/skiff.mjs');
export const CACHE = process.env.SKIFF_CACHE_DIR ?? join(homedir(), '.cache/skiff');

/** Runs a command to completion; rejects with its output when it fails. */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${out}\n${err}`))));
  });
}

/** Starts a command and resolves with the seconds until a stdout line matches, then kills it. */
export function secondsUntilLine(cmd, args, pattern, timeoutMs = 10 * 60_000) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let buffer = '';
    let stderr = '';
    const timer = setTimeout(() => finish(new Error(`no line matching ${pattern} within ${timeoutMs / 1000} s`)), timeoutMs);
    const finish = (error, seconds) => {
      clearTimeout(timer);
      try {
        process.kill(-child.pid, 'SIGTERM'); // the whole group: `sh -c` pipelines included
      } catch {}
      if (error) reject(error);
      else resolve(seconds);
    };
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      if (buffer.split('\n').some((line) => pattern.test(line))) finish(undefined, (performance.now() - started) / 1000);
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => finish(new Error(`${cmd} exited ${code} before printing ${pattern}\n${buffer}\n${stderr}`)));
  });
}

export async function seconds(fn) {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

export function median(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
export const round = (x, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export const skiff = (args, opts) => run(process.execPath, [CLI, ...args], opts);

/** The kubectl `skiff images build binaries` made, which matches the cluster's version. */
export const KUBECTL = process.env.KUBECTL ?? join(CACHE, 'bin/kubernetes-v1.34.1/kubectl');

export function writeResults(name, results) {
  const path = join(REPO, 'bench/results', `${name}.json`);
  mkdirSync(dirname(path), { recursive: true });
  const body = { benchmark: name, date: new Date().toISOString(), machine: machineLine(), ...results };
  writeFileSync(path, JSON.stringify(body, null, 2) + '\n');
  console.log(JSON.stringify(body, null, 2));
  return path;
}

function machineLine() {
  return `${process.platform} ${process.arch}, node ${process.version}`;
}
