// What jsdom lacks and JupyterLab's packages touch at import time (JupyterLab's own tests shim the same).
const g = globalThis as Record<string, unknown>;
g.DragEvent ??= class DragEvent extends (globalThis.MouseEvent as typeof MouseEvent) {};
g.ClipboardEvent ??= class ClipboardEvent extends (globalThis.Event as typeof Event) {};
if (typeof window !== 'undefined' && !window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener() {},
      removeListener() {},
      addEventListener() {},
      removeEventListener() {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}
