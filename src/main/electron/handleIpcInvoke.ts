import { z } from 'zod';
import { StageBError } from '../../shared/errors';
import type { ApiEnvelope } from '../../shared/api/contract';
import { IPC_INVOKE_CHANNEL } from '../../shared/api/transport';
import { isTrustedSenderUrl } from '../security/navigationPolicy';
import { dispatchApiCall } from '../api/dispatchApiCall';
import type { ApiHandlers } from '../api/createWorkbenchApi';

const InvokePayloadSchema = z.object({ method: z.string().min(1).max(100), input: z.unknown() }).strict();

/**
 * The IPC side of the API, without Electron: the main process passes the channel,
 * the sender frame's URL and the payload. Only the app's own frames may call,
 * only on the one API channel, and only with a { method, input } payload whose
 * input then passes the method's zod schema.
 */
export async function handleIpcInvoke(
  handlers: ApiHandlers,
  appOrigin: string,
  message: { channel: string; senderUrl: string | null | undefined; payload: unknown },
): Promise<ApiEnvelope> {
  if (message.channel !== IPC_INVOKE_CHANNEL) {
    return { ok: false, error: new StageBError('API_NOT_FOUND', `unknown IPC channel ${JSON.stringify(String(message.channel).slice(0, 80))}`).toJSON() };
  }
  if (!isTrustedSenderUrl(message.senderUrl, appOrigin)) {
    return { ok: false, error: new StageBError('API_FORBIDDEN', 'IPC call from a frame outside the app was refused').toJSON() };
  }
  const payload = InvokePayloadSchema.safeParse(message.payload);
  if (!payload.success) {
    return { ok: false, error: new StageBError('API_INVALID_REQUEST', 'IPC payload must be { method, input }').toJSON() };
  }
  return dispatchApiCall(handlers, payload.data.method, payload.data.input);
}
