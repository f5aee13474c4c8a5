// A script that points its own rendezvous at this machine, as PyTorch's DDP tutorial does
// (`os.environ['MASTER_ADDR'] = 'localhost'`, then mp.spawn), runs alone in each pod of a
// multi-worker job: its ranks never meet the other pods', and every pod trains its own copy.
// Skiff gives each rank the variables torchrun would, so such lines are only in the way. Pure: the
// caller passes the script's text and prints what comes back.

const LOCAL_ADDRESS = String.raw`['"](?:localhost|127\.0\.0\.1|0\.0\.0\.0|::1)['"]`;
/** A line that sets MASTER_ADDR to a local address (subscript, update(), putenv); setdefault and reads leave Skiff's. */
const SETS_LOCAL_MASTER = new RegExp(String.raw`MASTER_ADDR['"]?\s*(?:\]\s*=|=|,|:)\s*${LOCAL_ADDRESS}`);
const KEEPS_GIVEN = /setdefault|\.get\(|getenv/;
/** An init_method naming this machine: `tcp://localhost:12355`. */
const LOCAL_INIT_METHOD = /['"]tcp:\/\/(?:localhost|127\.0\.0\.1|\[::1\])[:'"]/;

export interface RendezvousLine {
  line: number;
  text: string;
}

/** The lines of `scriptText` that wire the rendezvous to the pod itself (comments skipped). */
export function localRendezvousLines(scriptText: string): RendezvousLine[] {
  const found: RendezvousLine[] = [];
  scriptText.split('\n').forEach((raw, i) => {
    const code = raw.trim();
    if (code.startsWith('#')) return;
    const setsMaster = SETS_LOCAL_MASTER.test(code) && !KEEPS_GIVEN.test(code);
    if (setsMaster || LOCAL_INIT_METHOD.test(code)) found.push({ line: i + 1, text: code });
  });
  return found;
}

/** The warning for a training job of `workers` ranks, or undefined when there is nothing to say. */
export function localRendezvousWarning(script: string, scriptText: string, workers: number): string | undefined {
  if (workers < 2) return undefined;
  const lines = localRendezvousLines(scriptText);
  if (lines.length === 0) return undefined;
  const where = lines.map((l) => `line ${l.line} (${l.text})`).join(', ');
  return (
    `warning: ${script} points its rendezvous at its own pod, ${where}: with ${workers} workers each pod would run on its own and never meet the others. ` +
    'Skiff gives every rank MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE, as torchrun does: drop those lines (or use os.environ.setdefault, and ' +
    "init_process_group's default env://), or run it with --workers 1"
  );
}
