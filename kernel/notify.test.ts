import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devNotifier, verifyWebhook, webhookNotifier } from './notify.ts';
import { silentLogger } from './log.ts';
import { systemClock } from './clock.ts';

const SECRET = 'webhook-secret-0123456789abcdef';
let server: Server;
let url = '';
const received: Array<{ body: string; sig: string }> = [];
let answer = 200;
const dir = mkdtempSync(join(tmpdir(), 'yw-notify-'));

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => {
      received.push({ body, sig: String(req.headers['x-yiwang-signature']) });
      res.statusCode = answer;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/sms`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('notify.webhook', () => {
  test('posts a signed body the receiver can verify; a tampered body fails verification', async () => {
    await webhookNotifier({ url, secret: SECRET, log: silentLogger(), clock: systemClock })
      .send({ to: '13800138000', template: 'otp.login', text: '验证码 123456', params: { code: '123456' } });
    const { body, sig } = received.at(-1)!;
    const now = Math.floor(Date.now() / 1000);
    expect(verifyWebhook(SECRET, body, sig, now)).toBe(true);
    expect(verifyWebhook(SECRET, body.replace('123456', '654321'), sig, now)).toBe(false);
    expect(verifyWebhook(SECRET, body, sig, now + 3600)).toBe(false);
  });
  test('a refusal by the gateway is an error for the sender', async () => {
    answer = 503;
    await expect(webhookNotifier({ url, secret: SECRET, log: silentLogger(), clock: systemClock })
      .send({ to: '13800138000', template: 'otp.login', text: 'x' })).rejects.toThrow('503');
    answer = 200;
  });
});

describe('notify.dev', () => {
  test('appends every notice to the file tests read', async () => {
    const n = devNotifier({ file: join(dir, 'sms.jsonl'), log: silentLogger(), clock: systemClock });
    await n.send({ to: '13800138000', template: 'case.accepted', text: '您的办件已受理' });
    await n.send({ to: '13900139000', template: 'otp.login', text: '验证码 000111' });
    expect((await n.read()).map((x) => x.template)).toEqual(['case.accepted', 'otp.login']);
  });
});
