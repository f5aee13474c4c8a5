// `skiff describe` as text: the CLI prints it, the editors show it. Pure and browser-safe.
import type { JobDescription } from '../jobs/status.js';

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
          .join('   ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

/** kubectl-style ages: 45s, 3m, 2h, 5d. */
export function formatAge(since: string | undefined, now: Date = new Date()): string {
  if (!since) return '?';
  const seconds = Math.max(0, Math.floor((now.getTime() - new Date(since).getTime()) / 1000));
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 120 * 60) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}

export const firstLine = (text: string | undefined, max = 70) => {
  const line = (text ?? '').split('\n')[0];
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

export const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => by + l)
    .join('\n');

export function describeText(d: JobDescription, now: Date = new Date()): string {
  const out: string[] = [];
  const field = (label: string, value: string) => out.push(`${(label + ':').padEnd(11)}${value}`);
  field('Name', d.name);
  field('Namespace', d.namespace);
  field('Kind', d.kind);
  field('Phase', d.phase);
  field('Script', [d.script, ...(d.spec?.args ?? [])].join(' '));
  field(d.kind === 'training' ? 'Workers' : 'Replicas', String(d.workers));
  if (d.createdAt) field('Created', `${d.createdAt} (${formatAge(d.createdAt, now)} ago)`);
  if (d.spec) {
    const resources = [
      `image ${d.spec.image}`,
      d.spec.resources.cpu ? `cpu ${d.spec.resources.cpu}` : '',
      d.spec.resources.memory ? `memory ${d.spec.resources.memory}` : '',
      d.spec.gpusPerWorker > 0
        ? `${d.spec.gpuShare ?? d.spec.gpusPerWorker} GPU per ${d.kind === 'training' ? 'worker' : 'replica'}${d.spec.gpuShare ? ' (a time-slice)' : ''}`
        : '',
      d.spec.kind === 'serving' ? `port ${d.spec.port}` : '',
    ].filter(Boolean);
    field('Resources', resources.join(', '));
    const env = Object.keys(d.spec.env);
    if (env.length > 0) field('Env', env.join(', '));
  }
  if (d.reason) {
    const [head, ...rest] = d.reason.split('\n');
    field('Reason', head);
    if (rest.length > 0) out.push(indent(rest.join('\n'), ' '.repeat(11)));
  }
  if (d.mlflow) out.push(...mlflowLines(d.mlflow));
  out.push('', 'Pods:');
  if (d.pods.length === 0) out.push('  (none yet)');
  else {
    // Which DRA devices each rank holds: only on a cluster that hands GPUs out through DRA.
    const claimed = d.pods.some((p) => p.gpus);
    const rows = [[d.kind === 'training' ? 'RANK' : 'REPLICA', 'NAME', 'NODE', ...(claimed ? ['GPUS'] : []), 'PHASE', 'READY', 'RESTARTS', 'EXIT', 'REASON']];
    for (const p of d.pods) {
      const gpus = claimed ? [p.gpus?.join(',') ?? '-'] : [];
      rows.push([
        String(p.rank),
        p.name,
        p.node ?? '-',
        ...gpus,
        p.phase,
        p.ready ? 'yes' : 'no',
        String(p.restarts),
        p.exitCode === undefined ? '-' : String(p.exitCode),
        p.reason ?? '',
      ]);
    }
    out.push(indent(table(rows).trimEnd()));
  }
  out.push('', 'Events:');
  if (d.events.length === 0) out.push('  (none)');
  else {
    const rows = [['AGE', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']];
    for (const e of d.events) rows.push([formatAge(e.time, now), e.type, e.reason, e.object, firstLine(e.message, 120) + (e.count > 1 ? ` (x${e.count})` : '')]);
    out.push(indent(table(rows).trimEnd()));
  }
  return out.join('\n') + '\n';
}

/** The job's MLflow experiment and its runs, each with its latest metrics and its link in the UI. */
function mlflowLines(m: NonNullable<JobDescription['mlflow']>): string[] {
  const out = ['', `MLflow:    experiment '${m.experiment}' (\`skiff ui mlflow\` serves the links)`];
  if (m.problem) out.push(`  runs not read: ${m.problem}`);
  else if (m.runs.length === 0) out.push('  no run yet (runs appear when the script calls mlflow or skiff.log)');
  for (const r of m.runs) {
    const metrics = Object.entries(r.metrics)
      .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : Number(v.toPrecision(5))}`)
      .join(' ');
    out.push(`  ${r.name}  ${r.status}${metrics ? `  ${metrics}` : ''}`, `    ${r.url}`);
  }
  return out;
}
