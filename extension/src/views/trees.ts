// The Clusters and Jobs trees of the Skiff view, drawn from LiveState.
import * as vscode from 'vscode';
import type { JobStatus } from '@skiff/runtime';
import type { PromotedTarget } from '@skiff/runtime/front';
import { clusterItem, jobItem, targetItem, type ItemModel } from '../job-items.js';
import type { LiveState, RemoteJobs } from '../live-state.js';

export function treeItem(model: ItemModel): vscode.TreeItem {
  const item = new vscode.TreeItem(model.label, vscode.TreeItemCollapsibleState.None);
  item.id = model.id;
  item.description = model.description;
  item.tooltip = model.tooltip;
  item.contextValue = model.contextValue;
  item.iconPath = new vscode.ThemeIcon(model.icon.id, model.icon.color ? new vscode.ThemeColor(model.icon.color) : undefined);
  return item;
}

/** Tree nodes carry the job (and, for a promoted job, where it runs), so context-menu commands receive it. */
export type JobNode = { job: JobStatus; target?: PromotedTarget };
/** A heading with the jobs of one promotion target. */
export type TargetNode = { remote: RemoteJobs };
export type JobsTreeNode = JobNode | TargetNode;

export class JobsTree implements vscode.TreeDataProvider<JobsTreeNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly state: LiveState) {
    state.onDidChange(() => this.changed.fire());
  }

  /** The local jobs, then one heading per context a job was promoted to, with its jobs under it. */
  getChildren(node?: JobsTreeNode): JobsTreeNode[] {
    if (node && 'remote' in node) return node.remote.jobs.map((job) => ({ job, target: node.remote.target }));
    if (node) return [];
    return [...this.state.jobs.map((job) => ({ job })), ...this.state.remotes.map((remote) => ({ remote }))];
  }

  getTreeItem(node: JobsTreeNode): vscode.TreeItem {
    if ('remote' in node) {
      const item = treeItem(targetItem(node.remote.target, node.remote.jobs, node.remote.problem));
      item.collapsibleState = vscode.TreeItemCollapsibleState.Expanded;
      return item;
    }
    const item = treeItem(jobItem(node.job, node.target));
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
