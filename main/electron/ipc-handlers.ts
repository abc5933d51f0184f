// The IPC handler table, free of 'electron' imports so it is unit-tested on plain Node with a fake sender.
import type { ControlApi } from '../api/control-api.js';
import { errorBody } from '../api/dispatch.js';
import type { CallContext } from '../api/handlers.js';
import type { Session } from '../api/sessions.js';
import {
  ApiError,
  apiMethods,
  ipcChannel,
  IPC_UPLOAD_CHUNK_CHANNEL,
  METHOD_NAMES,
  uploadChunkSchema,
  uploadIdSchema,
  type IpcReply,
  type MethodName,
  type MethodSpec,
  type Role,
} from '../shared/api.js';
import { isTrustedSender, type IpcSenderFrame } from './policy.js';

/** What the handlers need of Electron's IpcMainInvokeEvent. */
export interface IpcSender {
  /** webContents id: sessions are bound to one window. */
  id: number;
  frame: IpcSenderFrame | null;
}

export type IpcHandler = (sender: IpcSender, args: unknown[]) => Promise<IpcReply<unknown>>;

export interface IpcHandlerOptions {
  control: ControlApi;
  uiOrigin: string;
  /** `trusted`: the box's own window acts as admin without a login. */
  localWindow: 'login' | 'trusted';
}

/** A one-slot channel: the producer's push resolves once the consumer took the chunk. */
class ChunkChannel {
  private waiting: ((chunk: { bytes: Uint8Array; last: boolean } | Error) => void) | undefined;
  private queued: { chunk: { bytes: Uint8Array; last: boolean }; taken: () => void } | undefined;
  private failure: Error | undefined;

  push(bytes: Uint8Array, last: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.queued) return Promise.reject(new ApiError('bad-request', 'upload chunks must be sent one at a time'));
    return new Promise((resolve) => {
      const chunk = { bytes, last };
      if (this.waiting) {
        const take = this.waiting;
        this.waiting = undefined;
        take(chunk);
        resolve();
      } else {
        this.queued = { chunk, taken: resolve };
      }
    });
  }

  fail(error: Error): void {
    this.failure = error;
    this.waiting?.(error);
    this.waiting = undefined;
    this.queued?.taken();
    this.queued = undefined;
  }

  async *read(): AsyncIterable<Uint8Array> {
    for (;;) {
      const next = await new Promise<{ bytes: Uint8Array; last: boolean } | Error>((resolve) => {
        if (this.failure) resolve(this.failure);
        else if (this.queued) {
          const { chunk, taken } = this.queued;
          this.queued = undefined;
          taken();
          resolve(chunk);
        } else this.waiting = resolve;
      });
      if (next instanceof Error) throw next;
      if (next.bytes.length > 0) yield next.bytes;
      if (next.last) return;
    }
  }
}

/**
 * One handler per IPC channel, all derived from the method table. Each checks the sender frame
 * (main frame of the UI origin), then runs the same dispatch as HTTP: role, input schema, result
 * schema. Failures are returned as values (`IpcReply`), since Electron keeps only an Error's message.
 */
export interface IpcHandlerTable {
  /** Channel → handler: every method's channel and the upload chunk channel. */
  handlers: Map<string, IpcHandler>;
  /** The role of the window's session, for filtering the events sent to it. */
  roleOf(senderId: number): Role | undefined;
  /** A closed window: its session ends. */
  forgetSender(senderId: number): void;
}

export function createIpcHandlers(options: IpcHandlerOptions): IpcHandlerTable {
  const { control } = options;
  const sessions = new Map<number, string>();
  const uploads = new Map<string, ChunkChannel>();

  const sessionOf = (sender: IpcSender): Session | undefined => {
    const bound = control.auth.sessions.use(sessions.get(sender.id));
    if (bound) return bound;
    sessions.delete(sender.id);
    if (options.localWindow !== 'trusted') return undefined;
    const session = control.auth.localWindowSession();
    sessions.set(sender.id, session.id);
    return session;
  };

  const guard = (sender: IpcSender): void => {
    if (!isTrustedSender(sender.frame, options.uiOrigin)) throw new ApiError('forbidden', 'IPC refused: untrusted sender frame');
  };

  const methodHandler = (name: MethodName): IpcHandler => {
    const spec: MethodSpec = apiMethods[name];
    return async (sender, args) => {
      try {
        guard(sender);
        const [input, uploadId, ...rest] = args;
        if (rest.length > 0 || (uploadId !== undefined && !spec.streamedBody)) throw new ApiError('bad-request', `${name} takes one argument`);
        let body: AsyncIterable<Uint8Array> | undefined;
        if (spec.streamedBody) {
          const id = uploadIdSchema.safeParse(uploadId);
          if (!id.success) throw new ApiError('bad-request', `${name} over IPC needs an upload id as its second argument`);
          const key = `${sender.id}:${id.data}`;
          if (uploads.has(key)) throw new ApiError('conflict', `upload ${id.data} is already running`);
          const channel = new ChunkChannel();
          uploads.set(key, channel);
          body = channel.read();
          try {
            return await dispatchFor(sender, name, input, body);
          } finally {
            channel.fail(new ApiError('bad-request', 'the upload is over'));
            uploads.delete(key);
          }
        }
        return await dispatchFor(sender, name, input, body);
      } catch (error) {
        return { ok: false, error: errorBody(error).body };
      }
    };
  };

  const dispatchFor = async (sender: IpcSender, name: MethodName, input: unknown, body: AsyncIterable<Uint8Array> | undefined): Promise<IpcReply<unknown>> => {
    const context: CallContext = {
      transport: 'ipc',
      session: sessionOf(sender),
      bearerRole: undefined,
      client: `electron-window-${sender.id}`,
      startSession: (session) => void sessions.set(sender.id, session.id),
      endSession: () => void sessions.delete(sender.id),
      ...(body ? { body } : {}),
    };
    return { ok: true, result: await control.dispatch(name, input, context) };
  };

  const handlers = new Map<string, IpcHandler>();
  for (const name of METHOD_NAMES) handlers.set(ipcChannel(name), methodHandler(name));
  handlers.set(IPC_UPLOAD_CHUNK_CHANNEL, async (sender, args) => {
    try {
      guard(sender);
      const parsed = uploadChunkSchema.safeParse(args);
      if (!parsed.success) throw new ApiError('bad-request', 'an upload chunk is (uploadId, bytes of at most 1 MiB, last)');
      const [uploadId, bytes, last] = parsed.data;
      const channel = uploads.get(`${sender.id}:${uploadId}`);
      if (!channel) throw new ApiError('not-found', `no upload ${uploadId} is running`);
      await channel.push(bytes, last);
      return { ok: true, result: null };
    } catch (error) {
      return { ok: false, error: errorBody(error).body };
    }
  });
  return {
    handlers,
    roleOf: (senderId) => control.auth.sessions.peek(sessions.get(senderId))?.role,
    forgetSender: (senderId) => {
      const session = sessions.get(senderId);
      sessions.delete(senderId);
      if (session !== undefined) control.auth.sessions.end(session);
    },
  };
}
