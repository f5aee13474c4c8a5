// Small async building blocks for the log, metric and watch streams. Pure: no cluster in sight.

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A controller that aborts with the parent, so a stream can also stop itself without touching the caller's signal. */
export function childController(parent?: AbortSignal): AbortController {
  const child = new AbortController();
  if (parent?.aborted) child.abort(parent.reason);
  else parent?.addEventListener('abort', () => child.abort(parent.reason), { once: true });
  return child;
}

type Step<T> = { from: 'outer'; result: IteratorResult<AsyncIterable<T>> } | { from: AsyncIterator<T>; result: IteratorResult<T> };

/**
 * Interleaves inner streams as they arrive from `sources`, in arrival order across streams and in
 * order within each. Ends when `sources` and every inner stream have ended; the first error ends it.
 * Each stream is asked for its next item only after the previous one was taken (backpressure).
 * Breaking out of the loop calls `return()` on every open stream without waiting for it: a stream
 * blocked on I/O must watch its own AbortSignal to stop.
 */
export async function* mergeStreams<T>(sources: AsyncIterable<AsyncIterable<T>>): AsyncGenerator<T> {
  // Not Promise.race over the pending steps: each race adds a reaction to every promise still
  // pending, and the outer one stays pending while the job runs, so a million lines left a million
  // reactions on it (hundreds of MB). Each step here gets one reaction, which queues it.
  const outer = sources[Symbol.asyncIterator]();
  const open = new Set<AsyncIterator<unknown>>();
  const settled: ({ step: Step<T> } | { error: unknown })[] = [];
  let wake: (() => void) | undefined;
  const track = (it: AsyncIterator<unknown>, step: Promise<Step<T>>) => {
    open.add(it);
    step
      .then(
        (value) => settled.push({ step: value }),
        (error: unknown) => settled.push({ error }),
      )
      .finally(() => wake?.());
  };
  const pullOuter = () =>
    track(
      outer,
      outer.next().then((result) => ({ from: 'outer' as const, result })),
    );
  const pullInner = (it: AsyncIterator<T>) =>
    track(
      it,
      it.next().then((result) => ({ from: it, result })),
    );
  pullOuter();
  try {
    while (open.size > 0) {
      if (settled.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const next = settled.shift();
      if (!next) continue;
      if ('error' in next) throw next.error;
      const { step } = next;
      if (step.from === 'outer') {
        const { result } = step as Extract<Step<T>, { from: 'outer' }>;
        open.delete(outer);
        if (result.done) continue;
        pullInner(result.value[Symbol.asyncIterator]());
        pullOuter();
        continue;
      }
      const { from, result } = step as Extract<Step<T>, { from: AsyncIterator<T> }>;
      open.delete(from);
      if (result.done) continue;
      pullInner(from);
      yield result.value;
    }
  } finally {
    for (const it of open) void it.return?.().catch(() => undefined);
  }
}

/** An async iterable of already-known streams (for merging a fixed set). */
export async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/**
 * The values a callback-style task reports (`emit`), as a stream that ends when the task settles;
 * a rejection becomes the stream's error. For exposing a `waitFor(…, { onStatus })` as events.
 */
export async function* callbackStream<T>(task: (emit: (value: T) => void) => Promise<unknown>): AsyncGenerator<T> {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let settled: { error?: unknown } | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  task((value) => {
    queue.push(value);
    notify();
  }).then(
    () => ((settled = {}), notify()),
    (error: unknown) => ((settled = { error: error ?? new Error('the task failed') }), notify()),
  );
  for (;;) {
    while (queue.length > 0) yield queue.shift()!;
    if (settled) {
      if (settled.error !== undefined) throw settled.error;
      return;
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
}
