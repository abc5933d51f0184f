import type { z } from 'zod';
import type { Logger } from '../log/logger.js';
import { ApiError, apiMethods, roleAllows, type ApiErrorBody, type MethodName, type MethodSpec } from '../shared/api.js';
import type { Auth } from './auth.js';
import { callerRole, type ApiHandlers, type CallContext } from './handlers.js';

export type Dispatch = (name: MethodName, rawInput: unknown, context: CallContext) => Promise<unknown>;

function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/** The schema problem as one `bad-request`, naming the first field. */
export function badInput(error: z.ZodError, what: string): ApiError {
  const issues = issuesOf(error);
  const first = issues[0];
  return new ApiError('bad-request', first ? `${what}: ${first.path ? `"${first.path}": ` : ''}${first.message}` : `${what} rejected`, {
    ...(first?.path ? { field: first.path } : {}),
    issues,
  });
}

/**
 * The one path every call takes, whatever the transport: role check, input schema, handler,
 * result schema. Throws ApiError only (anything else is logged and becomes a generic `internal`).
 */
export function createDispatch(deps: { handlers: ApiHandlers; auth: Auth; log: Logger }): Dispatch {
  return async (name, rawInput, context) => {
    const spec: MethodSpec = apiMethods[name];
    const role = callerRole(context);
    if (!roleAllows(role, spec.access)) {
      if (role === undefined) {
        deps.auth.countFailure('no-session');
        throw new ApiError('unauthorized', 'sign in first (no session, or it expired)', { hint: 'POST /api/login, or send the bearer token of ui.tokenFile' });
      }
      deps.auth.countFailure('forbidden');
      deps.log.warn({ method: name, username: context.session?.username, role }, 'call refused: role too low');
      throw new ApiError('forbidden', `${name} needs the ${spec.access} role (you are ${role})`);
    }
    const input = spec.input.safeParse(rawInput ?? {});
    if (!input.success) throw badInput(input.error, `invalid input for ${name}`);
    const handler = deps.handlers[name] as (input: unknown, context: CallContext) => Promise<unknown>;
    let result: unknown;
    try {
      result = await handler(input.data, context);
    } catch (error) {
      if (error instanceof ApiError) throw error;
      deps.log.error({ err: error, method: name }, 'API call failed');
      throw new ApiError('internal', 'internal error (details are in the gateway log)');
    }
    const checked = spec.result.safeParse(result);
    if (!checked.success) {
      deps.log.error({ method: name, issues: issuesOf(checked.error) }, 'API result does not match the contract');
      throw new ApiError('internal', 'internal error (details are in the gateway log)');
    }
    return checked.data;
  };
}

/** Any thrown value as the body the transports send. */
export function errorBody(error: unknown): { status: number; body: ApiErrorBody } {
  if (error instanceof ApiError) return { status: error.status, body: error.toBody() };
  return { status: 500, body: { error: 'internal', message: 'internal error (details are in the gateway log)' } };
}
