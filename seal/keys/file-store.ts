/**
 * A KeyStore on disk for the offline seal CA (`yiwang seal`): one encrypted PKCS#8 PEM per key
 * (PBES2 / AES-256-CBC under KEY_PASSPHRASE, ./encrypt.ts), file mode 0600 in a 0700 folder.
 * The interface is the same as the in-memory store's, so an HSM or cloud KMS store can replace
 * either without touching the commands (R-LI-4: the seal service is supervised).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../kernel/errors.ts';
import { decryptPrivateKey, encryptPrivateKey } from './encrypt.ts';
import type { KeyStore } from './store.ts';

const SAFE_ID = /^[A-Za-z0-9_-]{1,80}$/;

export function createFileKeyStore(dir: string, passphrase: string): KeyStore {
  if (!passphrase) throw new AppError('BAD_INPUT', '口令不能为空 / the passphrase must not be empty');
  const file = (id: string) => {
    if (!SAFE_ID.test(id)) throw new AppError('BAD_INPUT', '密钥编号无效 / invalid key id', { id });
    return join(dir, `${id}.key.pem`);
  };
  return {
    async put(id, key) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      writeFileSync(file(id), encryptPrivateKey(key, passphrase), { mode: 0o600, flag: 'wx' });
    },
    async get(id) {
      const f = file(id);
      if (!existsSync(f)) throw new AppError('SEAL_NOT_FOUND', '没有该印章的私钥 / no private key for this seal', { id });
      return decryptPrivateKey(readFileSync(f, 'utf8'), passphrase);
    },
  };
}
