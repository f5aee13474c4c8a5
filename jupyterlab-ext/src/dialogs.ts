// Small dialogs: how many workers and GPUs a cell runs with, and a serving job's port.
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { h } from './dom';

class NumbersBody<K extends string> extends Widget implements Dialog.IBodyWidget<Record<K, number>> {
  private readonly inputs = new Map<K, HTMLInputElement>();

  constructor(fields: { key: K; label: string; value: number; min: number; max: number; step?: string }[]) {
    super();
    this.addClass('skiff-dialog');
    for (const f of fields) {
      const input = h('input', { type: 'number', min: String(f.min), max: String(f.max), step: f.step ?? '1', value: String(f.value), name: f.key, className: 'jp-mod-styled' });
      this.inputs.set(f.key, input);
      this.node.append(h('label', {}, h('span', {}, f.label), input));
    }
  }

  getValue(): Record<K, number> {
    return Object.fromEntries([...this.inputs].map(([k, input]) => [k, Number(input.value)])) as Record<K, number>;
  }
}

async function askNumbers<K extends string>(title: string, okLabel: string, fields: ConstructorParameters<typeof NumbersBody<K>>[0]): Promise<Record<K, number> | undefined> {
  const result = await showDialog({ title, body: new NumbersBody<K>(fields), buttons: [Dialog.cancelButton(), Dialog.okButton({ label: okLabel })] });
  return result.button.accept ? (result.value ?? undefined) : undefined;
}

export function askTrainingOptions(current: { workers: number; gpusPerWorker: number }) {
  return askNumbers<'workers' | 'gpusPerWorker'>('Run on the Skiff cluster', 'Run', [
    { key: 'workers', label: 'Workers (one process each)', value: current.workers, min: 1, max: 64 },
    // Below 1 (e.g. 0.5): a share of one GPU, a time-slice of a GPU the cluster shares.
    { key: 'gpusPerWorker', label: 'GPUs per worker (0.5: half of a shared GPU)', value: current.gpusPerWorker, min: 0, max: 16, step: 'any' },
  ]);
}

export function askServingOptions(current: { port: number; replicas: number }) {
  return askNumbers<'port' | 'replicas'>('Serve on the Skiff cluster', 'Serve', [
    { key: 'port', label: 'Port the app listens on', value: current.port, min: 1, max: 65535 },
    { key: 'replicas', label: 'Replicas', value: current.replicas, min: 1, max: 32 },
  ]);
}
