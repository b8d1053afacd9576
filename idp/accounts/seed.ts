/**
 * Demo accounts (SEED_DEMO): the staff of kernel/demo.ts (username login, one role each; proven
 * in person by their agency) and the demo citizen, whose mobile and social-security card are on
 * record in the development registry (idp/dev-registry.ts), so the account is L3 as an online
 * R-ID-1 registration would be. Idempotent: upsert by id; a password is hashed only when the
 * account has none, so restarts neither re-hash (slow) nor reset a changed password.
 */
import { AGREEMENT, type AccountStore, type DeclaredFactor } from './store.ts';
import { DEMO_CITIZEN, DEMO_STAFF } from '../../kernel/demo.ts';
import type { Clock } from '../../kernel/clock.ts';

export async function seedDemoAccounts(accounts: AccountStore, clock: Clock): Promise<void> {
  for (const s of DEMO_STAFF) {
    await accounts.upsert({
      id: s.id, kind: 'staff', name: s.name, idNumber: null, mobile: null, username: s.username,
      agencyCode: s.agencyCode, roles: [...s.roles], password: s.password, proofing: 'staff',
    });
  }
  const existing = await accounts.findById(DEMO_CITIZEN.id);
  const at = existing?.factors.find((f) => f.verified)?.at ?? clock.now().toISOString();
  const c = DEMO_CITIZEN;
  const factors: DeclaredFactor[] = [
    { type: 'mobile', last4: c.mobile.slice(-4), verified: true, at, source: 'carrier' },
    { type: 'socialSecurityCard', hash: accounts.factorHash('socialSecurityCard', c.socialSecurityCard), last4: c.socialSecurityCard.slice(-4), verified: true, at, source: 'social-security' },
  ];
  await accounts.upsert({
    id: c.id, kind: 'person', name: c.name, idNumber: c.idNumber, mobile: c.mobile, username: null,
    agencyCode: null, roles: [], password: c.password, factors, agreementVersion: AGREEMENT.version, proofing: 'online-verified',
  });
}
