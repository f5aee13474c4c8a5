import { describe, expect, it } from 'vitest';
import { exitCodeFor } from '../errors.js';
import { formatCommand, run, RunError } from './run.js';

const node = process.execPath;

async function runError(promise: Promise<unknown>): Promise<RunError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RunError);
  return err as RunError;
}

describe('run', () => {
  it('returns stdout and stderr without the final newline', async () => {
    const out = await run(node, ['-e', 'console.log("out"); console.error("err")']);
    expect(out).toEqual({ stdout: 'out', stderr: 'err' });
  });

  it('passes input, environment additions and cwd', async () => {
    const script = 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(s+process.env.SKIFF_T+process.cwd()))';
    const out = await run(node, ['-e', script], { input: 'in-', env: { SKIFF_T: 'env-' }, cwd: '/' });
    expect(out.stdout).toBe('in-env-/');
  });

  it('does not leave a program waiting on stdin', async () => {
    const out = await run(node, ['-e', 'process.stdin.resume().on("end",()=>console.log("eof"))'], { timeoutMs: 5000 });
    expect(out.stdout).toBe('eof');
  });

  it('streams lines of both streams to onLine and still collects them', async () => {
    const lines: string[] = [];
    const out = await run(node, ['-e', 'console.log("a\\nb"); console.error("c")'], {
      onLine: (line, stream) => lines.push(`${stream}:${line}`),
    });
    expect(lines.sort()).toEqual(['stderr:c', 'stdout:a', 'stdout:b']);
    expect(out).toEqual({ stdout: 'a\nb', stderr: 'c' });
  });

  it('reports a failing command with its argv, exit code and the tail of stderr', async () => {
    const script = 'for (let i = 1; i <= 30; i++) console.error("line " + i); console.log("partial"); process.exit(3)';
    const err = await runError(run(node, ['-e', script]));
    expect(err.argv).toEqual([node, '-e', script]);
    expect(err.exitCode).toBe(3);
    expect(err.stdout).toBe('partial');
    expect(err.code).toBe('COMMAND_FAILED');
    expect(err.message).toContain(`${node} -e 'for (let i`);
    expect(err.message).toContain('failed with exit code 3');
    expect(err.message).toContain('line 30');
    expect(err.message).toContain('line 11');
    expect(err.message).not.toContain('line 10\n');
    expect(exitCodeFor(err)).toBe(4);
  });

  it('turns a missing program into "command not found"', async () => {
    const err = await runError(run('skiff-no-such-program', ['x']));
    expect(err.message).toBe('command not found: skiff-no-such-program');
    expect(err.notFound).toBe(true);
    expect(err.argv).toEqual(['skiff-no-such-program', 'x']);
  });

  it('kills a program that runs past its timeout', async () => {
    const err = await runError(run(node, ['-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 200 }));
    expect(err.timedOut).toBe(true);
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toMatch(/timed out after 0\.2s/);
  });

  it('stops a program when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = run(node, ['-e', 'setTimeout(() => {}, 60000)'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    const err = await runError(pending);
    expect(err.cancelled).toBe(true);
    expect(err.message).toContain('was cancelled');
  });
});

describe('formatCommand', () => {
  it('quotes only what a shell would need quoted', () => {
    expect(formatCommand(['kind', 'create', 'cluster', '--name', 'skiff'])).toBe('kind create cluster --name skiff');
    expect(formatCommand(['sh', '-c', "echo 'hi' there"])).toBe(`sh -c 'echo '\\''hi'\\'' there'`);
  });
});
