import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { internalKey, verifyServiceToken } from '../../kernel/internal-auth.ts';
import { systemClock } from '../../kernel/clock.ts';
import { DEMO_CITIZEN } from '../../kernel/demo.ts';
import { TEST_SECRET } from '../../test/support/infra.ts';
import { IDP_AUDIENCE, idpAccountDirectory } from './directory.ts';

const key = internalKey(TEST_SECRET);
let server: Server;
let base: string;
let status = 200;
const seen: string[] = [];

beforeAll(async () => {
  // A stand-in for the IdP's internal account API: checks the service token like the IdP does.
  server = createServer((req, res) => {
    void (async () => {
      try {
        const sub = await verifyServiceToken(key, req.headers.authorization?.replace(/^Bearer /, ''), IDP_AUDIENCE);
        seen.push(`${sub} ${req.url}`);
      } catch {
        res.writeHead(401).end();
        return;
      }
      if (status !== 200) { res.writeHead(status).end(); return; }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
        id: DEMO_CITIZEN.id, kind: 'person', name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber, agencyCode: null,
      }));
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => { await new Promise((r) => server.close(r)); });

describe('licence.directory', () => {
  test('reads the holder from the IdP with a licence service token', async () => {
    const d = idpAccountDirectory({ baseUrl: base, key, clock: systemClock });
    expect(await d.get(DEMO_CITIZEN.id)).toEqual({ id: DEMO_CITIZEN.id, name: DEMO_CITIZEN.name, idNumber: DEMO_CITIZEN.idNumber });
    expect(seen.at(-1)).toBe(`licence /internal/accounts/${DEMO_CITIZEN.id}`);
  });

  test('an IdP error, a wrong key or an unreachable IdP throws (the event is retried later)', async () => {
    status = 503;
    await expect(idpAccountDirectory({ baseUrl: base, key, clock: systemClock }).get('x')).rejects.toThrow(/503/);
    status = 200;
    await expect(idpAccountDirectory({ baseUrl: base, key: internalKey('another-secret-0123456789abcdef-0123456789'), clock: systemClock }).get('x'))
      .rejects.toThrow(/401/);
    await expect(idpAccountDirectory({ baseUrl: 'http://127.0.0.1:1', key, clock: systemClock }).get('x')).rejects.toThrow();
  });
});
