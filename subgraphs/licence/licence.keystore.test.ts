/**
 * licence.keystore: the service's private keys behind the KeyStore interface (an HSM or
 * KMS can replace the passphrase) — with a store configured, the database keeps only
 * references, the licences still seal and verify.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { KeyObject } from 'node:crypto';
import { createMemoryKeyStore, readTrustBundle, verifyLicence, type KeyStore } from '../../seal/index.ts';
import { KEYSTORE_REF } from './trust.ts';
import { issue, startLicenceFixture, type LicenceFixture } from '../../test/support/licence.ts';

/** Stands in for an HSM: counts what it is asked. */
class CountingStore implements KeyStore {
  inner = createMemoryKeyStore('hsm-test-passphrase-0123456789');
  puts = 0;
  async put(id: string, key: KeyObject) { this.puts++; await this.inner.put(id, key); }
  async get(id: string) { return this.inner.get(id); }
}

const store = new CountingStore();
let f: LicenceFixture;

beforeAll(async () => { f = await startLicenceFixture({ keyStore: store }); }, 60_000);
afterAll(async () => { await f?.close(); });

describe('licence.keystore', () => {
  test('keys go to the KeyStore, the database keeps references only; licences seal and verify', async () => {
    const lic = await issue(f);
    const rows = (await f.db.query<{ id: string; key_pem: string }>('select id, key_pem from licence.certificates')).rows;
    expect(rows.map((r) => r.key_pem)).toEqual(rows.map((r) => `${KEYSTORE_REF}${r.id}`));
    expect(rows.some((r) => r.key_pem.includes('PRIVATE KEY'))).toBe(false);
    expect(store.puts).toBe(rows.length); // root, provincial CA, TSA, the agency's seal
    const bundle = await (await fetch(`${f.svc.url}/trust-bundle.pem`)).text();
    expect((await verifyLicence(lic.credential, { trustAnchorsPem: readTrustBundle(bundle) })).valid).toBe(true);
  });
});
