/**
 * Accounts linked to trusted real-name platforms (R-ID-3), in `idp.account_links`: which
 * platform (its configured id, issuer, tier and region: ready for R-ID-12) knows the person as
 * which subject, at which level, since when, and whether the account was registered through it
 * or linked later. One account per platform subject, one link per platform per account.
 *
 * - register: a new account from the platform's verified identity, after the person accepted
 *   the agreement here. The name + ID number (and the mobile, when vouched for and bound to no
 *   other account) are recorded as verified by `upstream:<id>` at the platform's verification
 *   time; level as identity.ts decided; no password. An ID number registered already is
 *   ACCOUNT_EXISTS (log in and link instead), a subject linked already LINK_EXISTS. Account and
 *   link are written in one transaction: a refusal stores nothing.
 * - link: an existing person's account is linked after a normal login, when the platform vouches
 *   for the same name and ID number (LINK_IDENTITY_MISMATCH otherwise).
 * - unlink: the person removes one of their own links (NOT_FOUND when that platform is not linked
 *   to this account). Refused with LINK_LAST_LOGIN when it is the account's last way to log in: no
 *   password, no bound mobile (SMS code) and no other linked platform. The account row is locked
 *   while checking, so two removals at once cannot both pass. The factors the platform verified
 *   stay recorded (they were verified at the time); `within` runs in the same transaction (the
 *   audit entry).
 * - recognise (R-ID-12): a person logging in through their home platform of the federation
 *   (homes.ts) gets a local identity linked to the home account, with no form, no agreement
 *   (accepted at home) and no password: the first time an account is created from the verified
 *   name and ID number (via `recognition`, with the home's Entity Identifier, trust anchor, tier
 *   and region); every later time the link is found and the level the home now states is taken
 *   for account and link alike (up or down: it is the home's). An ID number with an account here
 *   already is ACCOUNT_EXISTS (log in with it). Two first logins at once: one creates, the other
 *   finds it. `within` runs in the same transaction (the audit entry).
 */
import type { Db, Queryable } from '../../kernel/db.ts';
import { pgCode } from '../../kernel/db.ts';
import type { Clock } from '../../kernel/clock.ts';
import { AppError } from '../../kernel/errors.ts';
import type { AccountRecord, AccountStore, DeclaredFactor } from '../accounts/store.ts';
import type { Level } from '../accounts/assurance.ts';
import type { UpstreamIdentity } from './identity.ts';
import type { Upstream } from './upstreams.ts';

export interface AccountLink {
  accountId: string;
  upstream: string;
  issuer: string;
  subject: string;
  tier: string;
  region: string;
  level: Level;
  via: 'registration' | 'link' | 'recognition';
  linkedAt: string;
  /** The home platform's Entity Identifier (recognition only). */
  entityId: string | null;
}

interface Row {
  account_id: string; upstream: string; issuer: string; subject: string; tier: string; region: string; level: number;
  via: 'registration' | 'link' | 'recognition'; linked_at: Date | string; entity_id: string | null;
}
const toLink = (r: Row): AccountLink => ({
  accountId: r.account_id, upstream: r.upstream, issuer: r.issuer, subject: r.subject, tier: r.tier, region: r.region,
  level: r.level as Level, via: r.via, linkedAt: new Date(r.linked_at).toISOString(), entityId: r.entity_id ?? null,
});

export interface LinkStore {
  find(issuer: string, subject: string): Promise<AccountLink | undefined>;
  ofAccount(accountId: string): Promise<AccountLink[]>;
  register(u: Upstream, identity: UpstreamIdentity, agreementVersion: string): Promise<{ accountId: string }>;
  link(u: Upstream, account: AccountRecord, identity: UpstreamIdentity): Promise<AccountLink>;
  unlink(accountId: string, upstream: string, within?: (q: Queryable, removed: AccountLink) => Promise<unknown>): Promise<AccountLink>;
  recognise(u: Upstream, identity: UpstreamIdentity, within?: (q: Queryable, r: { accountId: string; created: boolean }) => Promise<unknown>): Promise<{ accountId: string; created: boolean }>;
}

const linkExists = () => new AppError('LINK_EXISTS', '该平台账户已关联本平台的账户，或您的账户已关联该平台 / this platform account is already linked here, or your account already has a link to that platform');

export function createLinkStore(d: { db: Db; clock: Clock; accounts: AccountStore }): LinkStore {
  const { db, clock, accounts } = d;

  async function insert(q: Queryable, u: Upstream, accountId: string, identity: UpstreamIdentity, via: AccountLink['via']): Promise<AccountLink> {
    try {
      const { rows } = await q.query<Row>(
        `insert into idp.account_links (account_id, upstream, issuer, subject, tier, region, level, via, linked_at, entity_id, trust_anchor)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning *`,
        [accountId, u.id, identity.issuer, identity.subject, u.tier, u.region, identity.level, via, clock.now().toISOString(),
          u.federation?.entityId ?? null, u.federation?.trustAnchor ?? null],
      );
      return toLink(rows[0]!);
    } catch (e) {
      throw pgCode(e) === '23505' ? linkExists() : e;
    }
  }

  const store: LinkStore = {
    async find(issuer, subject) {
      const { rows } = await db.query<Row>('select * from idp.account_links where issuer = $1 and subject = $2', [issuer, subject]);
      return rows[0] ? toLink(rows[0]) : undefined;
    },

    async ofAccount(accountId) {
      const { rows } = await db.query<Row>('select * from idp.account_links where account_id = $1 order by linked_at', [accountId]);
      return rows.map(toLink);
    },

    async register(u, identity, agreementVersion) {
      if (await accounts.findByLogin(identity.idNumber)) {
        throw new AppError('ACCOUNT_EXISTS', '该身份证号码已在本平台注册：请先登录，再在“我的账户”中关联该平台 / this ID number already has an account here: log in, then link the platform from My account');
      }
      if (await store.find(identity.issuer, identity.subject)) throw linkExists();
      // The mobile is bound (and recorded) only when no other account has it.
      const mobile = identity.mobile && !(await accounts.findByLogin(identity.mobile)) ? identity.mobile : null;
      const source = `upstream:${u.id}`;
      const factors: DeclaredFactor[] = [
        { type: 'idNumber', last4: identity.idNumber.slice(-4), verified: true, at: identity.verifiedAt, source },
        ...(mobile ? [{ type: 'mobile' as const, last4: mobile.slice(-4), verified: true, at: identity.verifiedAt, source }] : []),
      ];
      return db.tx(async (q) => {
        const { id } = await accounts.createLinked({ name: identity.name, idNumber: identity.idNumber, mobile, level: identity.level, factors, agreementVersion }, q);
        await insert(q, u, id, identity, 'registration');
        return { accountId: id };
      });
    },

    async recognise(u, identity, within) {
      const again = async () => {
        const { rows } = await db.query<{ account_id: string }>('select account_id from idp.account_links where issuer = $1 and subject = $2', [identity.issuer, identity.subject]);
        return rows[0]?.account_id;
      };
      const known = await again();
      if (known) {
        await db.tx(async (q) => {
          await q.query('update idp.account_links set level = $3, tier = $4, region = $5 where issuer = $1 and subject = $2', [identity.issuer, identity.subject, identity.level, u.tier, u.region]);
          await q.query("update idp.accounts set assurance_level = $2 where id = $1 and proofing = 'linked'", [known, identity.level]);
          await within?.(q, { accountId: known, created: false });
        });
        return { accountId: known, created: false };
      }
      if (await accounts.findByLogin(identity.idNumber)) {
        throw new AppError('ACCOUNT_EXISTS', '该身份证号码已在本平台注册：请用本平台的密码或短信验证码登录 / this ID number already has an account here: log in with its password or an SMS code');
      }
      const mobile = identity.mobile && !(await accounts.findByLogin(identity.mobile)) ? identity.mobile : null;
      const source = `home:${u.id}`;
      const factors: DeclaredFactor[] = [
        { type: 'idNumber', last4: identity.idNumber.slice(-4), verified: true, at: identity.verifiedAt, source },
        ...(mobile ? [{ type: 'mobile' as const, last4: mobile.slice(-4), verified: true, at: identity.verifiedAt, source }] : []),
      ];
      try {
        return await db.tx(async (q) => {
          const { id } = await accounts.createLinked({ name: identity.name, idNumber: identity.idNumber, mobile, level: identity.level, factors, agreementVersion: null }, q);
          await insert(q, u, id, identity, 'recognition');
          await within?.(q, { accountId: id, created: true });
          return { accountId: id, created: true };
        });
      } catch (e) {
        // Another first login of the same person won the race: theirs is the account.
        const winner = await again();
        if (winner) return { accountId: winner, created: false };
        throw e;
      }
    },

    async link(u, account, identity) {
      if (account.kind !== 'person' || account.idNumber !== identity.idNumber || account.name !== identity.name) {
        throw new AppError('LINK_IDENTITY_MISMATCH', '该平台核验的身份（姓名或身份证号码）与您的账户不一致，不能关联 / the platform vouches for another person (name or ID number) than this account', { upstream: u.id });
      }
      return insert(db, u, account.id, identity, 'link');
    },

    async unlink(accountId, upstream, within) {
      return db.tx(async (q) => {
        const { rows: [account] } = await q.query<{ has_password: boolean; mobile: string | null }>(
          'select password_hash is not null as has_password, mobile from idp.accounts where id = $1 for update', [accountId],
        );
        const { rows } = await q.query<Row>('select * from idp.account_links where account_id = $1', [accountId]);
        const link = rows.find((r) => r.upstream === upstream);
        if (!account || !link) throw new AppError('NOT_FOUND', '您的账户未关联该平台 / your account has no link to that platform', { upstream });
        if (!account.has_password && !account.mobile && rows.length === 1) {
          throw new AppError('LINK_LAST_LOGIN', '这是您账户唯一的登录方式：请先设置密码或绑定手机号码，再解除关联 / this is the only way to log in to your account: set a password or bind a mobile first, then remove the link', { upstream });
        }
        await q.query('delete from idp.account_links where account_id = $1 and upstream = $2', [accountId, upstream]);
        const removed = toLink(link);
        await within?.(q, removed);
        return removed;
      });
    },
  };
  return store;
}
