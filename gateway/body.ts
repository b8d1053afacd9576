/**
 * JSON request bodies for POST /graphql, with a size limit. An over-large or malformed body is
 * answered here in GraphQL shape (413 / 400, code BAD_INPUT) instead of reaching the HTTP shell
 * as an unexpected error.
 */
import type { Middleware } from 'koa';
import { koaBody } from 'koa-body';
import { graphqlErrorBody } from './auth.ts';
import { AppError } from '../kernel/errors.ts';

export const DEFAULT_BODY_LIMIT = '1mb';

export function jsonBody(limit: string = DEFAULT_BODY_LIMIT): Middleware {
  const parse = koaBody({ json: true, urlencoded: false, text: false, multipart: false, jsonLimit: limit, jsonStrict: true });
  return async (ctx, next) => {
    try {
      await parse(ctx, async () => undefined);
    } catch (e) {
      const tooLarge = (e as { status?: number }).status === 413;
      ctx.status = tooLarge ? 413 : 400;
      ctx.type = 'application/json';
      ctx.body = graphqlErrorBody(new AppError('BAD_INPUT', tooLarge
        ? `请求过大 / the request body is larger than ${limit}`
        : '请求体不是有效的 JSON / the request body is not valid JSON'));
      return;
    }
    // Non-JSON bodies are not parsed; give Apollo Server an empty body so it answers with its
    // own 400 (content type / CSRF prevention) rather than a "no body parser" 500.
    const req = ctx.request as unknown as { body?: unknown };
    if (req.body === undefined) req.body = {};
    await next();
  };
}
