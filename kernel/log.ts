import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs (pino). Secrets, tokens and ID numbers are redacted by path wherever they
 * appear in a logged object; code must still never interpolate them into messages.
 */
const REDACT = [
  'password', '*.password', 'newPassword', '*.newPassword',
  'token', '*.token', 'accessToken', '*.accessToken', 'refreshToken', '*.refreshToken', 'idToken', '*.idToken',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization', 'req.headers.cookie',
  'headers["x-yiwang-identity"]', 'req.headers["x-yiwang-identity"]',
  'secret', '*.secret', 'passphrase', '*.passphrase', 'privateKey', '*.privateKey',
  'idNumber', '*.idNumber', 'code_verifier', '*.code_verifier',
];

export function createLogger(name: string, level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' }, base: { svc: name } });
}

/** A logger that drops everything: for tests that do not inspect logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
