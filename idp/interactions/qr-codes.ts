/**
 * QR login (R-ID-5, device-authorization style): the login page shows a QR code carrying
 * `<issuer>/qr/<code>`; the mobile app, logged in, scans it and approves with its access token
 * (POST /qr/<code>/approve); meanwhile the page polls (GET /interaction/<uid>/qr) and, once
 * approved, completes the login. A code lives IDP_QR_TTL_SECONDS, belongs to one interaction,
 * can be approved once and completes one login.
 */
import { randomBytes } from 'node:crypto';
import type { Cache } from '../../kernel/cache.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { Level } from '../accounts/assurance.ts';

export type QrStatus = 'pending' | 'approved' | 'denied' | 'expired';
interface QrEntry { uid: string; exp: number; status: 'pending' | 'approved' | 'denied'; accountId?: string; level?: Level }

export interface QrLogins {
  /** The interaction's live code (a new one when there is none or it expired). */
  forInteraction(uid: string): Promise<{ code: string; expiresIn: number }>;
  status(uid: string): Promise<{ status: QrStatus; expiresIn: number }>;
  /** The app's decision (QR_EXPIRED for an unknown, expired or already decided code). */
  decide(code: string, decision: { accountId: string; level: Level } | 'deny'): Promise<void>;
  /** Take the approval for the interaction, once (QR_NOT_APPROVED / QR_EXPIRED otherwise). */
  take(uid: string): Promise<{ accountId: string; level: Level }>;
}

export function createQrLogins(d: { cache: Cache; clock: Clock; ttlSeconds: number }): QrLogins {
  const { cache, clock, ttlSeconds } = d;
  const now = () => clock.now().getTime();
  const byCode = (code: string) => `qr:code:${code}`;
  const byUid = (uid: string) => `qr:uid:${uid}`;
  const expired = () => new AppError('QR_EXPIRED', '二维码已过期，请刷新 / the QR code has expired; show a new one');

  async function entry(code: string | null): Promise<QrEntry | undefined> {
    if (!code || !/^[A-Za-z0-9_-]{22}$/.test(code)) return undefined;
    const raw = await cache.get(byCode(code));
    const e = raw ? JSON.parse(raw) as QrEntry : undefined;
    return e && e.exp > now() ? e : undefined;
  }

  return {
    async forInteraction(uid) {
      const existing = await cache.get(byUid(uid));
      const e = await entry(existing);
      if (existing && e && e.status === 'pending') return { code: existing, expiresIn: Math.ceil((e.exp - now()) / 1000) };
      const code = randomBytes(16).toString('base64url');
      const fresh: QrEntry = { uid, exp: now() + ttlSeconds * 1000, status: 'pending' };
      await cache.set(byCode(code), JSON.stringify(fresh), { ttlSeconds: ttlSeconds + 5 });
      await cache.set(byUid(uid), code, { ttlSeconds: ttlSeconds + 5 });
      return { code, expiresIn: ttlSeconds };
    },
    async status(uid) {
      const e = await entry(await cache.get(byUid(uid)));
      if (!e) return { status: 'expired', expiresIn: 0 };
      return { status: e.status, expiresIn: Math.ceil((e.exp - now()) / 1000) };
    },
    async decide(code, decision) {
      const e = await entry(code);
      if (!e || e.status !== 'pending') throw expired();
      const next: QrEntry = decision === 'deny' ? { ...e, status: 'denied' } : { ...e, status: 'approved', accountId: decision.accountId, level: decision.level };
      await cache.set(byCode(code), JSON.stringify(next), { ttlSeconds: Math.max(1, Math.ceil((e.exp - now()) / 1000)) + 5 });
    },
    async take(uid) {
      const code = await cache.get(byUid(uid));
      const e = await entry(code);
      if (!e || !code) throw expired();
      if (e.status !== 'approved' || !e.accountId || !e.level) throw new AppError('QR_NOT_APPROVED', '请在手机应用上确认登录 / approve the login on the mobile app first');
      // One completion: whoever deletes the uid mapping first.
      if (await cache.del(byUid(uid)) !== 1) throw expired();
      await cache.del(byCode(code));
      return { accountId: e.accountId, level: e.level };
    },
  };
}
