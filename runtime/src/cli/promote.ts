// `skiff promote JOB --to CONTEXT`: the plan (what changes on the target, as a diff from its
// server-side dry run), a confirmation, then build, push and apply. Nothing reaches the target
// without a yes: --yes, or "y" typed at the prompt.
import { createInterface } from 'node:readline/promises';
import Docker from 'dockerode';
import { SkiffError } from '../errors.js';
import type { SkiffSession } from '../session.js';
import { applyPromotion, planPromotion, type PromotionPlan } from '../promote/promote.js';
import { loadTargetProfile, targetFiles } from '../promote/target.js';
import type { Output } from './follow.js';
import { planSummaryLines } from '../front/promotion-text.js';

export interface PromoteFlags {
  to: string;
  profile?: string;
  targets?: string;
  yes?: boolean;
  dryRun?: boolean;
  output: 'text' | 'json';
}

export interface PromoteDeps {
  cwd: string;
  /** Asks the question and resolves with the answer; absent when there is no terminal to ask. */
  ask?: (question: string) => Promise<string>;
  docker?: Docker;
}

export function planText(plan: PromotionPlan): string {
  const [where, image, ...changes] = planSummaryLines(plan);
  const lines = [`promote ${where}`, image, ...changes.map((c) => `  ${c}`)];
  return lines.join('\n') + '\n' + (plan.diff ? `\n${plan.diff}` : '\nno changes on the target\n');
}

/** A terminal prompt on stdin/stderr, or undefined when stdin is not a terminal. */
export function terminalAsk(): ((question: string) => Promise<string>) | undefined {
  if (!process.stdin.isTTY) return undefined;
  return async (question) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  };
}

export async function promote(session: SkiffSession, job: string, flags: PromoteFlags, io: Output, deps: PromoteDeps): Promise<number> {
  const profileName = flags.profile ?? flags.to;
  const { profile, file } = loadTargetProfile(profileName, flags.targets ? [flags.targets] : targetFiles(deps.cwd));
  io.err(`target profile '${profileName}' from ${file}\n`);
  const plan = await planPromotion({ job, local: await session.kubeConfig(), localNamespace: session.namespace, toContext: flags.to, profile });
  const changes = plan.changes.map(({ kind, name, action }) => ({ kind, name, action }));
  const summary = { job: plan.job, context: plan.context, namespace: plan.namespace, image: plan.image, form: plan.form, changes, diff: plan.diff };
  if (flags.output === 'json' && flags.dryRun) {
    io.out(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  }
  if (flags.output === 'text') io.out(planText(plan));
  if (flags.dryRun) return 0;
  if (!flags.yes) {
    if (!deps.ask) {
      throw new SkiffError('BAD_INPUT', `not applying to context '${plan.context}' without a confirmation`, {
        hint: 'review the diff above, then run again with --yes (or from a terminal to be asked)',
      });
    }
    const answer = (await deps.ask(`apply to context '${plan.context}'? [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.err('not applied; nothing changed on the target\n');
      return 0;
    }
  }
  await applyPromotion(plan, { docker: deps.docker ?? new Docker(), onProgress: (line) => io.err(`${line}\n`) });
  if (flags.output === 'json') io.out(JSON.stringify({ ...summary, applied: true }, null, 2) + '\n');
  io.err(`promoted ${plan.job} to '${plan.context}'; follow it with \`skiff --context ${plan.context} -n ${plan.namespace} logs ${plan.job} -f\`\n`);
  return 0;
}
