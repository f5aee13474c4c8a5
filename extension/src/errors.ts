// SkiffError -> what the user sees: one message plus the buttons that help. Pure.
import { errorCodeOf } from '@skiff/runtime/errors';

export type NotificationAction = 'Retry' | 'Show Details' | 'Start Cluster' | 'Open Settings';

export interface Notification {
  message: string;
  actions: NotificationAction[];
}

export function notificationFor(err: unknown, opts: { retryable?: boolean } = {}): Notification {
  const code = errorCodeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const hint = (err as { hint?: string } | null)?.hint;
  const text = hint ? `${message} — ${hint}` : message;
  const retry: NotificationAction[] = opts.retryable ? ['Retry'] : [];
  switch (code) {
    case 'NO_DOCKER':
      return { message: `Docker engine is not running: ${text}`, actions: [...retry, 'Show Details'] };
    case 'NO_CLUSTER':
    case 'CLUSTER_GONE':
      return { message: text, actions: ['Start Cluster', 'Show Details'] };
    case 'NO_KIND':
    case 'NO_GPU':
    case 'IMAGE_MISSING':
      return { message: text, actions: [...retry, 'Show Details'] };
    case 'BAD_INPUT':
      return { message: text, actions: ['Open Settings'] };
    default:
      return { message: text, actions: [...retry, 'Show Details'] };
  }
}
