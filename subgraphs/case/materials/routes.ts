/**
 * PUT /materials/upload/:token (raw bytes, at most CASE_MATERIAL_MAX_BYTES, read as a stream and
 * cut off beyond it) and GET /materials/download/:token. The token is the authorisation: it was
 * handed out through the graph to the applicant (upload) or to someone who can see the case
 * (download), names exactly one material, and expires after 10 minutes.
 */
import type { Router } from '@koa/router';
import type { Db } from '../../../kernel/db.ts';
import { AppError } from '../../../kernel/errors.ts';
import { readDownload, receiveUpload, type MaterialsEnv } from './materials.ts';

async function readBody(stream: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += chunk.length;
    if (n > max) throw new AppError('MATERIAL_TOO_LARGE', `材料不能超过${max}字节 / at most ${max} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

export function mountMaterials(router: Router, d: { db: Db; env: MaterialsEnv }): void {
  router.put('/materials/upload/:token', async (ctx) => {
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > d.env.maxBytes) throw new AppError('MATERIAL_TOO_LARGE', `材料不能超过${d.env.maxBytes}字节 / at most ${d.env.maxBytes} bytes`);
    const bytes = await readBody(ctx.req, d.env.maxBytes);
    ctx.status = 201;
    ctx.body = await receiveUpload(d.db, d.env, ctx.params.token ?? '', bytes);
  });
  router.get('/materials/download/:token', async (ctx) => {
    const { bytes, mediaType } = await readDownload(d.env, ctx.params.token ?? '');
    ctx.set('cache-control', 'private, no-store');
    ctx.set('x-content-type-options', 'nosniff');
    ctx.type = mediaType;
    ctx.body = bytes;
  });
}
