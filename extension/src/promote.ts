// "Skiff: Promote to Cloud…": a kubeconfig context and a target profile from QuickPicks, the
// target's dry run in a diff editor (what it holds now on the left, what it would hold on the
// right), a modal confirmation, then build, push and apply with progress; then the promoted job in
// the Jobs view under its target, and its logs from the remote context in its own channel. The
// runtime does every step.
import * as vscode from 'vscode';
import type { JobStatus } from '@skiff/runtime';
import { planSides, planSummaryLines, profilesFor, promotionChoices } from '@skiff/runtime/front';
import { followInChannel, type CommandContext } from './job-channel.js';

export const PLAN_SCHEME = 'skiff-plan';

/** Read-only documents for the diff editor, keyed by URI path. */
export class PlanDocuments implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();

  set(path: string, text: string): vscode.Uri {
    this.texts.set(path, text);
    return vscode.Uri.from({ scheme: PLAN_SCHEME, path });
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }
}

export async function promoteJob(ctx: CommandContext, docs: PlanDocuments, job: JobStatus): Promise<void> {
  const session = await ctx.session();
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const choices = promotionChoices(session.promotionTargets(cwd));
  if (choices.problem !== undefined) return void vscode.window.showWarningMessage(`Skiff: ${choices.problem}.`);
  const to = await vscode.window.showQuickPick(choices.contexts, { placeHolder: `Promote ${job.name} to which context?` });
  if (!to) return;
  const profilePick = await vscode.window.showQuickPick(
    profilesFor(to, choices.profiles).map((p) => ({ label: p.name, description: p.file })),
    { placeHolder: 'Target profile (registry, namespace, GPU resource, selectors)' },
  );
  if (!profilePick) return;
  try {
    const plan = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Skiff: dry run on '${to}'` }, () =>
      session.planPromotion(job.name, { to, profile: profilePick.label, cwd }),
    );
    const { before, after } = planSides(plan);
    const left = docs.set(`/${to}/${plan.job}/live.yaml`, before);
    const right = docs.set(`/${to}/${plan.job}/promoted.yaml`, after);
    await vscode.commands.executeCommand('vscode.diff', left, right, `${plan.job}: '${to}' now ↔ after promotion (dry run)`, { preview: true });
    const ok = await vscode.window.showWarningMessage(`Promote ${plan.job} to '${to}'?`, { modal: true, detail: planSummaryLines(plan).join('\n') }, 'Promote');
    if (ok !== 'Promote') return;
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Skiff: promoting ${plan.job} to '${to}'` }, (progress) =>
      session.applyPromotion(plan, (message) => progress.report({ message })),
    );
    void vscode.window.showInformationMessage(`Skiff: ${plan.job} runs on '${to}' (namespace ${plan.namespace}).`);
    // From now on the Jobs view lists that target's jobs too; its logs stream into a channel now.
    const target = { context: plan.context, namespace: plan.namespace };
    ctx.state.watchTarget(target);
    const promoted = { job: await (await ctx.sessionFor({ job, target })).getJob(plan.job), target };
    await followInChannel(ctx, promoted);
  } catch (err) {
    ctx.report(err);
  }
}
