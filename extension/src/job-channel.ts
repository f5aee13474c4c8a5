// A job's output channel, and what every command hands around: the session, the settings, the
// live state. Its own module so that the commands and the promotion flow both use it without
// importing each other.
import * as vscode from 'vscode';
import type { JobStatus, SkiffSession } from '@skiff/runtime';
import { cellStatusText } from '@skiff/runtime/front';
import { runtime } from './runtime.js';
import type { SkiffSettings } from './settings.js';
import type { JobNode } from './views/trees.js';
import type { LiveState } from './live-state.js';

export interface CommandContext {
  session(): Promise<SkiffSession>;
  /** The session a job node belongs to: the local cluster's, or that of the context it was promoted to. */
  sessionFor(node: JobNode): Promise<SkiffSession>;
  settings(): SkiffSettings;
  state: LiveState;
  /** One LogOutputChannel per job, reused when the job's logs are shown again. */
  channel(job: string): vscode.LogOutputChannel;
  report(err: unknown, retry?: () => PromiseLike<unknown>): void;
}

/** A job's output channel: its name, and where it runs when it was promoted. */
export function channelName(node: JobNode): string {
  return node.target ? `${node.job.name} @ ${node.target.context}` : node.job.name;
}

/** Streams a job's logs into its output channel until it ends; the channel's last line is the outcome. */
export async function followInChannel(ctx: CommandContext, node: JobNode): Promise<void> {
  const { displayLogLine, followJob } = await runtime();
  const { job, target } = node;
  const session = await ctx.sessionFor(node);
  const channel = ctx.channel(channelName(node));
  channel.show(true);
  let lastStatus = '';
  let warnedStuck = false;
  const status = (s: JobStatus) => {
    const text = cellStatusText(s);
    if (text !== lastStatus) channel.info(text);
    lastStatus = text;
    // A Pending job with a reason is stuck (no GPU, no room, no image): say so once, with what to do.
    if (s.phase === 'Pending' && s.reason && !warnedStuck) {
      warnedStuck = true;
      void vscode.window.showWarningMessage(`Skiff: ${s.name} is stuck Pending: ${s.reason}`, 'Describe Job', 'Cancel Job').then((choice) => {
        if (choice === 'Describe Job') void vscode.commands.executeCommand('skiff.describeJob', { job: s, target });
        if (choice === 'Cancel Job') void vscode.commands.executeCommand('skiff.cancelJob', { job: s, target });
      });
    }
  };
  status(job);
  void followJob(
    session,
    job.name,
    {
      onLog: (line) => channel.appendLine(displayLogLine(line)),
      onStatus: status,
      onStreamError: (what, err) => channel.warn(`${what} stream stopped: ${String(err)}`),
      // The API server went away (a restart, a stopped node) and came back: said in the channel, where the lines pause.
      onNotice: (message) => channel.warn(message),
    },
    { namespace: job.namespace },
  ).then(
    (final) => {
      status(final);
      if (final.phase === 'Failed') void vscode.window.showErrorMessage(`Skiff: ${final.name} failed${final.reason ? `: ${final.reason}` : ''}`);
    },
    (err) => ctx.report(err),
  );
}
