/**
 * seal.keys: private keys at rest are encrypted PKCS#8; the wrong passphrase is
 * KEY_DECRYPT_FAILED; the in-memory key store holds only encrypted PEM.
 */
import { describe, expect, it } from '@jest/globals';
import { createPrivateKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { createMemoryKeyStore, decryptPrivateKey, encryptPrivateKey } from './index.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PASS = 'correct horse battery staple, 32+ chars';

describe('seal.keys encryption (R-PL-2: private keys encrypted at rest)', () => {
  it('round-trips a key through encrypted PKCS#8 PEM that OpenSSL can read with the passphrase', () => {
    const pem = encryptPrivateKey(privateKey, PASS);
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    expect(() => createPrivateKey(pem)).toThrow(); // useless without the passphrase
    const back = decryptPrivateKey(pem, PASS);
    const sig = sign('sha256', Buffer.from('盖章'), back);
    expect(verify('sha256', Buffer.from('盖章'), publicKey, sig)).toBe(true);
  });

  it('a wrong passphrase or a damaged file is KEY_DECRYPT_FAILED, without echoing the passphrase', () => {
    const pem = encryptPrivateKey(privateKey, PASS);
    let err: unknown;
    try {
      decryptPrivateKey(pem, 'Tr0ub4dor-guess');
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'KEY_DECRYPT_FAILED' });
    expect(String((err as Error).message)).not.toContain('Tr0ub4dor-guess');
    const lines = pem.split('\n');
    lines.splice(5, 1); // a line of the ciphertext lost
    expect(() => decryptPrivateKey(lines.join('\n'), PASS)).toThrow(expect.objectContaining({ code: 'KEY_DECRYPT_FAILED' }));
  });

  it('refuses a public key or an empty passphrase (BAD_INPUT)', () => {
    expect(() => encryptPrivateKey(publicKey, PASS)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => encryptPrivateKey(privateKey, '')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('seal.keys store', () => {
  it('stores and returns keys; an unknown id is SEAL_NOT_FOUND', async () => {
    const store = createMemoryKeyStore(PASS);
    await store.put('seal-1', privateKey);
    const back = await store.get('seal-1');
    expect(back.export({ type: 'pkcs8', format: 'der' }).equals(privateKey.export({ type: 'pkcs8', format: 'der' }))).toBe(true);
    await expect(store.get('seal-2')).rejects.toMatchObject({ code: 'SEAL_NOT_FOUND' });
  });

  it('keeps no clear key material in memory it can be inspected through', async () => {
    const store = createMemoryKeyStore(PASS);
    await store.put('seal-1', privateKey);
    const clear = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(JSON.stringify(store)).not.toContain(clear.split('\n')[1]);
  });
});
