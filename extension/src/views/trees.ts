// The Clusters and Jobs trees of the Skiff view, drawn from LiveState.
import * as vscode from 'vscode';
import type { JobStatus } from '@skiff/runtime';
import { clusterItem, jobItem, type ItemModel } from '../job-items.js';
import type { LiveState } from '../live-state.js';

export function treeItem(model: ItemModel): vscode.TreeItem {
  const item = new vscode.TreeItem(model.label, vscode.TreeItemCollapsibleState.None);
  item.id = model.id;
  item.description = model.description;
  item.tooltip = model.tooltip;
  item.contextValue = model.contextValue;
  item.iconPath = new vscode.ThemeIcon(model.icon.id, model.icon.color ? new vscode.ThemeColor(model.icon.color) : undefined);
  return item;
}

/** Tree nodes carry the job, so context-menu commands receive it. */
export type JobNode = { job: JobStatus };

export class JobsTree implements vscode.TreeDataProvider<JobNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly state: LiveState) {
    state.onDidChange(() => this.changed.fire());
  }

  getChildren(): JobNode[] {
    return this.state.jobs.map((job) => ({ job }));
  }

  getTreeItem(node: JobNode): vscode.TreeItem {
    const item = treeItem(jobItem(node.job));
    item.command = { command: 'skiff.showLogs', title: 'Show Logs', arguments: [node] };
    return item;
  }
}

export class ClustersTree implements vscode.TreeDataProvider<'cluster'> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly state: LiveState) {
    state.onDidChange(() => this.changed.fire());
  }

  getChildren(): 'cluster'[] {
    return this.state.cluster ? ['cluster'] : [];
  }

  getTreeItem(): vscode.TreeItem {
    return treeItem(clusterItem(this.state.cluster!));
  }
}
