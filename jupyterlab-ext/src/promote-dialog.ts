// Promotion from the sidebar: pick a context and a target profile, review the target's dry-run
// diff, confirm, then watch the build, push and apply. Every step is the runtime's; this only asks.
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { planSummaryLines, promotionChoices, type PromotedTarget, type PromotionSummary, type SkiffApiClient } from '@skiff/runtime/front';
import { errorText } from './api';
import { h } from './dom';

class TargetBody extends Widget implements Dialog.IBodyWidget<{ to: string; profile: string }> {
  private readonly context: HTMLSelectElement;
  private readonly profile: HTMLSelectElement;

  constructor(contexts: string[], profiles: string[]) {
    super();
    this.addClass('skiff-dialog');
    this.context = h('select', { name: 'context', className: 'jp-mod-styled' }, ...contexts.map((c) => h('option', { value: c, textContent: c })));
    this.profile = h('select', { name: 'profile', className: 'jp-mod-styled' }, ...profiles.map((p) => h('option', { value: p, textContent: p })));
    // A profile named after the context is the default, as on the command line.
    const follow = () => profiles.includes(this.context.value) && (this.profile.value = this.context.value);
    this.context.onchange = follow;
    follow();
    this.node.append(h('label', {}, h('span', { textContent: 'Context' }), this.context), h('label', {}, h('span', { textContent: 'Target profile' }), this.profile));
  }

  getValue() {
    return { to: this.context.value, profile: this.profile.value };
  }
}

function planBody(plan: PromotionSummary): Widget {
  const body = new Widget();
  body.addClass('skiff-plan');
  body.node.append(
    ...planSummaryLines(plan)
      .slice(0, 2)
      .map((line) => h('p', { textContent: line })),
    h('ul', {}, ...plan.changes.map((c, i) => h('li', { textContent: planSummaryLines(plan)[i + 2], dataset: { action: c.action } }))),
    h('pre', { className: 'skiff-diff', textContent: plan.diff || 'no changes on the target' }),
  );
  return body;
}

/** The whole flow; `report` shows progress and the outcome where the user is looking, `promoted` where the job went. */
export async function promoteJob(client: SkiffApiClient, job: string, report: (line: string) => void, promoted: (target: PromotedTarget) => void = () => {}): Promise<void> {
  let targets;
  try {
    targets = await client.promotionTargets();
  } catch (err) {
    return report(`✗ ${errorText(err)}`);
  }
  const choices = promotionChoices(targets);
  if (choices.problem !== undefined) return report(`✗ ${choices.problem}`);
  const chosen = await showDialog({
    title: `Promote ${job}`,
    body: new TargetBody(
      choices.contexts,
      choices.profiles.map((p) => p.name),
    ),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Show plan' })],
  });
  if (!chosen.button.accept || !chosen.value) return;
  report(`planning: a dry run on '${chosen.value.to}'…`);
  let plan: PromotionSummary;
  try {
    plan = await client.planPromotion(job, chosen.value);
  } catch (err) {
    return report(`✗ ${errorText(err)}`);
  }
  const confirm = await showDialog({
    title: `Apply to '${plan.context}'?`,
    body: planBody(plan),
    buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Promote' })],
  });
  if (!confirm.button.accept) return report('not promoted: nothing changed on the target');
  try {
    const done = await client.promote(job, chosen.value, plan, (line) => report(line));
    report(`✓ promoted ${done.job} to '${done.context}' (namespace ${done.namespace}); it is listed under that target in the sidebar`);
    promoted({ context: done.context, namespace: done.namespace });
  } catch (err) {
    report(`✗ ${errorText(err)}`);
  }
}
