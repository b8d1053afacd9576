/**
 * Private keys at rest: encrypted PKCS#8 PEM (RFC 5958 EncryptedPrivateKeyInfo, PBES2 with
 * AES-256-CBC), made and opened by node:crypto so any OpenSSL can read the files too. The
 * passphrase is KEY_PASSPHRASE (kernel/config.ts); it never appears in an error message.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { AppError } from '../../kernel/errors.ts';

export function encryptPrivateKey(key: KeyObject, passphrase: string): string {
  if (key.type !== 'private') throw new AppError('BAD_INPUT', '只能加密私钥 / only a private key can be encrypted');
  if (!passphrase) throw new AppError('BAD_INPUT', '口令不能为空 / the passphrase must not be empty');
  return key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase }).toString();
}

/** Throws AppError('KEY_DECRYPT_FAILED') for a wrong passphrase or a damaged file. */
export function decryptPrivateKey(pem: string, passphrase: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch {
    // OpenSSL's text (bad decrypt, unsupported, ...) says nothing useful to the operator and
    // must not suggest which part was wrong.
    throw new AppError('KEY_DECRYPT_FAILED', '私钥解密失败（口令错误或文件损坏）/ could not decrypt the private key (wrong passphrase or damaged key)');
  }
}
