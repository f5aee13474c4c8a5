// @vitest-environment jsdom
import './testing/jsdom-shims';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiServer } from '@skiff/runtime';
import { SkiffApiClient } from '@skiff/runtime/front';
import { SkiffModel } from './model';
import { DEFAULT_SETTINGS } from './settings';
import { clusterState, SkiffSidebar } from './sidebar';
import { scriptedBackend, TOKEN } from './testing/backend';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const node = (ready: boolean) => ({ name: 'n', role: 'worker' as const, ready, gpus: 0 });
const cluster = (nodes: ReturnType<typeof node>[]) => ({ name: 'skiff', context: 'kind-skiff', profile: 'cpu' as const, nodes });

describe('clusterState', () => {
  it('is ready only when the cluster is made and every node is Ready', () => {
    expect(clusterState(cluster([node(true), node(true)]), undefined)).toBe('ready');
    expect(clusterState(cluster([node(true), node(false)]), undefined)).toBe('degraded');
    // kind lists a cluster before its nodes register.
    expect(clusterState(cluster([]), undefined)).toBe('degraded');
    expect(clusterState(cluster([node(true)]), { action: 'starting', progress: [] })).toBe('starting');
  });
});

describe("the sidebar's Start cluster", () => {
  it('offers GPU sharing for GPU profiles only, and starts the cluster with the sharing chosen', async () => {
    const backend = scriptedBackend();
    const server = await startApiServer({ token: TOKEN, backend });
    const model = new SkiffModel(new SkiffApiClient({ baseUrl: server.url, token: TOKEN }));
    closers.push(async () => (model.dispose(), await server.close()));
    await model.start();
    const sidebar = new SkiffSidebar(model, () => ({ ...DEFAULT_SETTINGS, gpuSharing: 2 }));
    const profile = sidebar.node.querySelector<HTMLSelectElement>('select.skiff-profile')!;
    const sharing = sidebar.node.querySelector<HTMLSelectElement>('select.skiff-gpu-sharing')!;
    const offered = () => [...sharing.options].filter((o) => !o.hidden).map((o) => o.textContent);
    expect(sharing.hidden).toBe(true);
    expect(offered()).toEqual(['whole GPUs', 'GPUs shared 2 ways', 'GPUs shared 4 ways']);
    expect(sharing.value).toBe('2');

    profile.value = 'fake-gpu';
    profile.dispatchEvent(new Event('change'));
    expect(sharing.hidden).toBe(false);
    // fake-gpu may also hand its GPUs out as DRA devices (`skiff up --dra`).
    expect(offered()).toEqual(['whole GPUs', 'GPUs shared 2 ways', 'GPUs shared 4 ways', 'GPUs as DRA devices']);
    sharing.value = 'dra';
    await sidebar.startCluster();
    expect(backend.upRequests.at(-1)).toEqual({ profile: 'fake-gpu', workers: 2, gpuSharing: 1, dra: true });
    await model.down();
    sharing.value = '4';
    // The add-ons ticked go with it.
    const boxes = [...sidebar.node.querySelectorAll<HTMLInputElement>('input.skiff-addon')];
    expect(boxes.map((b) => [b.value, b.checked])).toEqual([
      ['mlflow', false],
      ['prometheus', false],
      ['kueue', false],
    ]);
    boxes[2].checked = true;
    await sidebar.startCluster();
    expect(backend.upRequests.at(-1)).toEqual({ profile: 'fake-gpu', workers: 2, gpuSharing: 4, addons: ['kueue'] });
    expect(sidebar.node.querySelector('.skiff-cluster-state')?.textContent).toBe('skiff fake-gpu · 2/2 nodes Ready · 1 GPU shared 4 ways');

    await model.down();
    boxes[2].checked = false;
    profile.value = 'cpu';
    profile.dispatchEvent(new Event('change'));
    await sidebar.startCluster();
    // A CPU cluster has no GPUs to share: the request says nothing of sharing.
    expect(backend.upRequests.at(-1)).toEqual({ profile: 'cpu', workers: 2 });

    // The running cluster takes add-ons too: only those ticked, nothing about its shape.
    expect(sidebar.node.querySelector('button.skiff-add-addons')?.textContent).toBe('Add to cluster');
    await sidebar.addToCluster();
    expect(backend.upRequests).toHaveLength(3); // nothing ticked: nothing asked
    boxes[1].checked = true;
    await sidebar.addToCluster();
    expect(backend.upRequests.at(-1)).toEqual({ addons: ['prometheus'] });
  });
});
