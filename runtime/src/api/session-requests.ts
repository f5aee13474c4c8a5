// The request bodies of the notebook-session routes, checked before anything starts. The numbers'
// ranges are the job spec's to judge (notebookSessionSpec validates them as for any job).
import path from 'node:path';
import { z } from 'zod';
import { SkiffError } from '../errors.js';

const sessionStart = z
  .object({
    notebook: z
      .string({ required_error: 'notebook is required: the absolute path of the .ipynb on this machine' })
      .refine(path.isAbsolute, 'notebook must be an absolute path on this machine'),
    name: z.string().min(1).optional(),
    workers: z.number().optional(),
    gpusPerWorker: z.number().optional(),
    idleMinutes: z.number().optional(),
    image: z.string().min(1).optional(),
    packages: z.array(z.string()).optional(),
    /** Reuse a running session of the same size instead of starting afresh (an editor reattaching). */
    attach: z.boolean().default(false),
  })
  .strict();

const cellRun = z
  .object({
    code: z.string({ required_error: "code is required: the cell's source" }),
    allRanks: z.boolean().optional(),
  })
  .strict();

const interrupt = z.object({ graceMs: z.number().int().min(0).max(600_000).optional() }).strict();

export const parseSessionStart = (body: unknown) => parse(sessionStart, body);
export const parseCellRun = (body: unknown) => parse(cellRun, body);
export const parseInterrupt = (body: unknown) => parse(interrupt, body);

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.');
  const message =
    issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : field && !issue.message.startsWith(field) ? `${field}: ${issue.message}` : issue.message;
  throw new SkiffError('BAD_INPUT', message);
}
