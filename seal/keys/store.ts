/**
 * Where seal private keys live. An interface so a hardware security module or a cloud KMS can
 * take the place of the in-memory store without touching the signing code (R-LI-4: the seal
 * service is supervised; keys should end up in certified hardware).
 *
 * The in-memory store keeps only encrypted PKCS#8 PEM, so a heap dump or a log of the map does
 * not reveal a usable key without the passphrase.
 */
import type { KeyObject } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';
import { decryptPrivateKey, encryptPrivateKey } from './encrypt.ts';

export interface KeyStore {
  put(id: string, key: KeyObject): Promise<void>;
  /** Throws AppError('SEAL_NOT_FOUND') for an unknown id, 'KEY_DECRYPT_FAILED' for a bad passphrase. */
  get(id: string): Promise<KeyObject>;
}

export function createMemoryKeyStore(passphrase: string): KeyStore {
  if (!passphrase) throw new AppError('BAD_INPUT', '口令不能为空 / the passphrase must not be empty');
  const sealed = new Map<string, string>();
  return {
    async put(id, key) {
      sealed.set(id, encryptPrivateKey(key, passphrase));
    },
    async get(id) {
      const pem = sealed.get(id);
      if (pem === undefined) throw new AppError('SEAL_NOT_FOUND', '没有该印章的私钥 / no private key for this seal', { id });
      return decryptPrivateKey(pem, passphrase);
    },
  };
}
