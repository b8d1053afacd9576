/**
 * Partner clients: relying parties registered by an administrator through
 * the admin API (idp/admin/routes.ts), stored in `idp.partner_clients`, served to oidc-provider
 * through its `Client` adapter model (so a change is seen by the next request: oidc-provider
 * caches dynamic clients by the hash of their metadata, not by id).
 *
 * Every partner is a confidential web client (client_secret_basic), authorization code + PKCE,
 * with **pairwise** subject identifiers (idp/partners/pairwise.ts) so two partners cannot
 * correlate their users; only the first-party portal keeps public subjects (the gateway relies
 * on them). Partners may register a back-channel logout URI (OIDC Back-Channel Logout 1.0) and
 * post-logout redirect URIs (RP-Initiated Logout 1.0). The secret is shown once, at registration,
 * and stored encrypted (AES-256-GCM under a key derived from KEY_PASSPHRASE, `yw_secret_enc`):
 * oidc-provider compares secrets as given, so the adapter decrypts it when it hands the client over.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { Db, Queryable } from '../../kernel/db.ts';
import { AppError } from '../../kernel/errors.ts';
import type { NetworkPolicy } from '../../kernel/outbound.ts';
import { isValidName, normaliseName } from '../../kernel/names.ts';

/**
 * OIDC scopes a partner may be allowed (never the graph: partners get no gateway tokens).
 * `yw_realname` (full ID number, idp/partners/realname.ts) only with `realname_platform: true`.
 */
export const PARTNER_SCOPES = ['openid', 'offline_access', 'profile', 'phone', 'yw_identity', 'yw_companies', 'yw_realname'] as const;

const httpUrl = z.url({ protocol: /^https?$/ }).max(500);
/** A partner's name is shown on the login and consent pages: the rule for names (kernel/names.ts). */
const PARTNER_NAME = { min: 1, max: 100, label: ['名称', 'the name'] } as const;

export const PartnerInput = z.object({
  client_name: z.string().transform(normaliseName).refine((n) => isValidName(n, PARTNER_NAME), 'a name of 1 to 100 characters without invisible, format or control characters'),
  redirect_uris: z.array(httpUrl).min(1).max(10),
  post_logout_redirect_uris: z.array(httpUrl).max(10).optional(),
  backchannel_logout_uri: httpUrl.optional(),
  scope: z.string().optional().refine((s) => !s || s.split(' ').every((x) => (PARTNER_SCOPES as readonly string[]).includes(x)), 'unknown scope'),
  /** Partners sharing a sector see the same pairwise subject; default: the redirect URIs' host. */
  sector: z.string().regex(/^[a-z0-9.-]{1,100}$/).optional(),
  /** A trusted real-name platform of another tier (R-ID-3): may be allowed `yw_realname`. */
  realname_platform: z.boolean().optional(),
  /** A resource server: may introspect any token at the token introspection endpoint (idp/oidc/introspection.ts). */
  resource_server: z.boolean().optional(),
}).strict().refine((p) => p.realname_platform === true || !p.scope?.split(' ').includes('yw_realname'), {
  path: ['scope'], message: 'yw_realname is only for a client registered with realname_platform: true',
});
export type PartnerInput = z.infer<typeof PartnerInput>;

export interface PartnerClient {
  clientId: string;
  clientName: string;
  metadata: Record<string, unknown>;
  disabled: boolean;
  createdAt: string;
}

/** What a partner registration answers: the client secret is in it once, never again. */
export interface RegisteredPartner { client_id: string; client_secret: string; metadata: Record<string, unknown> }

export interface PartnerClientStore {
  /** Validates (BAD_INPUT with the fields), then stores in the caller's transaction. */
  register(q: Queryable, input: unknown, actorId: string, validate: (metadata: Record<string, unknown>) => Promise<void>): Promise<RegisteredPartner>;
  list(): Promise<PartnerClient[]>;
  get(clientId: string): Promise<PartnerClient | undefined>;
  setDisabled(q: Queryable, clientId: string, disabled: boolean): Promise<boolean>;
  /** oidc-provider's `Client` model: a disabled or unknown client is not found; the secret is decrypted here. */
  adapter(): Adapter;
}

/** The key partner secrets are encrypted with at rest. */
export function clientSecretKey(keyPassphrase: string): KeyObject {
  return createSecretKey(createHash('sha256').update('yiwang.idp.client-secret-key\n').update(keyPassphrase).digest());
}

export function sealSecret(key: KeyObject, secret: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return [iv, c.getAuthTag(), ct].map((b) => b.toString('base64url')).join('.');
}

export function openSecret(key: KeyObject, sealed: string): string {
  const [iv = '', tag = '', ct = ''] = sealed.split('.');
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
}

interface Row { client_id: string; metadata: Record<string, unknown> | string; disabled: boolean; created_at: Date | string }

const json = <T>(v: T | string): T => (typeof v === 'string' ? JSON.parse(v) as T : v);

function publicView(r: Row): PartnerClient {
  const { client_secret: _secret, yw_secret_enc: _sealed, ...metadata } = json(r.metadata);
  return {
    clientId: r.client_id, clientName: String(metadata.client_name ?? r.client_id), metadata, disabled: r.disabled,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export function badInput(e: z.ZodError): AppError {
  const fields = [...new Set(e.issues.map((i) => i.path.join('.') || '(body)'))];
  return new AppError('BAD_INPUT', `输入有误：${fields.join('、')} / invalid input: ${fields.join(', ')}`, { fields });
}

export function createPartnerClientStore(db: Db, secretKey: KeyObject, outbound?: NetworkPolicy): PartnerClientStore {
  async function row(clientId: string): Promise<Row | undefined> {
    const { rows } = await db.query<Row>('select client_id, metadata, disabled, created_at from idp.partner_clients where client_id = $1', [clientId]);
    return rows[0];
  }

  return {
    async register(q, input, actorId, validate) {
      const parsed = PartnerInput.safeParse(input);
      if (!parsed.success) throw badInput(parsed.error);
      const p = parsed.data;
      // A back-channel logout URI the IdP may not call would be accepted and then never called.
      if (p.backchannel_logout_uri && outbound) {
        try {
          await outbound.check(p.backchannel_logout_uri);
        } catch (e) {
          throw new AppError('BAD_INPUT', `后端退出通知地址不可达 / backchannel_logout_uri cannot be called: ${(e as Error).message}. Allow its network with IDP_OUTBOUND_ALLOWED_NETWORKS, or use a public address.`, { fields: ['backchannel_logout_uri'] });
        }
      }
      const clientId = `partner-${randomBytes(9).toString('base64url')}`;
      const clientSecret = randomBytes(32).toString('base64url');
      const metadata: Record<string, unknown> = {
        client_id: clientId,
        client_secret: clientSecret,
        client_name: p.client_name,
        application_type: 'web',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: p.redirect_uris,
        post_logout_redirect_uris: p.post_logout_redirect_uris ?? [],
        scope: p.scope ?? 'openid profile',
        subject_type: 'pairwise',
        ...(p.backchannel_logout_uri ? { backchannel_logout_uri: p.backchannel_logout_uri, backchannel_logout_session_required: true } : {}),
        ...(p.sector ? { yw_sector: p.sector } : {}),
        ...(p.realname_platform ? { yw_realname_platform: true } : {}),
        ...(p.resource_server ? { yw_resource_server: true } : {}),
      };
      try {
        await validate(metadata);
      } catch (e) {
        const why = (e as { error_description?: string }).error_description ?? (e as Error).message;
        throw new AppError('BAD_INPUT', `客户端元数据无效 / invalid client metadata: ${why}`, { fields: ['metadata'] });
      }
      const { client_secret: _s, ...shown } = metadata;
      const stored = { ...shown, yw_secret_enc: sealSecret(secretKey, clientSecret) };
      await q.query('insert into idp.partner_clients (client_id, metadata, created_by) values ($1, $2, $3)', [clientId, JSON.stringify(stored), actorId]);
      return { client_id: clientId, client_secret: clientSecret, metadata: shown };
    },

    async list() {
      const { rows } = await db.query<Row>('select client_id, metadata, disabled, created_at from idp.partner_clients order by created_at, client_id');
      return rows.map(publicView);
    },

    async get(clientId) {
      const r = await row(clientId);
      return r ? publicView(r) : undefined;
    },

    async setDisabled(q, clientId, disabled) {
      const { rowCount } = await q.query('update idp.partner_clients set disabled = $2, updated_at = now() where client_id = $1', [clientId, disabled]);
      return rowCount > 0;
    },

    adapter() {
      const refuse = async (): Promise<never> => { throw new Error('partner clients are managed through the admin API'); };
      return {
        async find(id: string): Promise<AdapterPayload | undefined> {
          if (!id.startsWith('partner-')) return undefined;
          const r = await row(id);
          if (!r || r.disabled) return undefined;
          const { yw_secret_enc: sealed, ...metadata } = json(r.metadata);
          return { ...metadata, client_secret: openSecret(secretKey, String(sealed)) } as AdapterPayload;
        },
        upsert: refuse, findByUid: async () => undefined, findByUserCode: async () => undefined,
        consume: refuse, destroy: refuse, revokeByGrantId: refuse,
      };
    },
  };
}
