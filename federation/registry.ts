/**
 * The subordinates a superior vouches for, registered by an administrator: entity identifier,
 * its federation keys, the entity types it may have, and what the superior imposes on it
 * (metadata, metadata policy, constraints). Every addition, change and removal is written to the
 * append-only `federation.audit` in the same transaction. A removed subordinate gets no more
 * statements from `fetch`; the row stays for the record.
 */
import type { Clock } from '../kernel/clock.ts';
import type { Db, Queryable } from '../kernel/db.ts';
import { AppError } from '../kernel/errors.ts';
import { checkUrl, type UrlPolicy } from './fetcher.ts';
import { validateMetadataPolicy } from './policy.ts';
import { checkJwks } from './statement.ts';
import type { Constraints, Jwks, Metadata, MetadataPolicy } from './types.ts';

export interface Subordinate {
  entityId: string;
  jwks: Jwks;
  entityTypes: string[];
  metadata?: Metadata | undefined;
  metadataPolicy?: MetadataPolicy | undefined;
  metadataPolicyCrit?: string[] | undefined;
  constraints?: Constraints | undefined;
}

export interface SubordinateRecord extends Subordinate {
  addedAt: string;
  addedBy: string;
  updatedAt: string;
}

export interface Registry {
  /** Add or replace a subordinate (audited as add or update). */
  put(s: Subordinate, actor: string): Promise<SubordinateRecord>;
  /** Stop vouching for a subordinate; FEDERATION_SUBORDINATE_UNKNOWN if it is not registered. */
  remove(entityId: string, actor: string): Promise<void>;
  get(entityId: string): Promise<SubordinateRecord | null>;
  list(filter?: { entityType?: string | undefined }): Promise<SubordinateRecord[]>;
  audit(limit?: number): Promise<Array<{ at: string; actor: string; action: string; entityId: string | null; details: Record<string, unknown> }>>;
}

const ENTITY_TYPE = /^[a-z][a-z0-9_]{0,63}$/;
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Validate an administrator's input; BAD_INPUT names the field. */
export function checkSubordinate(s: Subordinate, policy: UrlPolicy): Subordinate {
  const badInput = (field: string, message: string) => new AppError('BAD_INPUT', `下级实体登记信息有误 / invalid subordinate: ${message}`, { field });
  checkUrl(s.entityId, policy, 'entityId');
  try {
    checkJwks(s.jwks);
  } catch (e) {
    throw badInput('jwks', (e as Error).message);
  }
  if (!Array.isArray(s.entityTypes) || !s.entityTypes.every((t) => typeof t === 'string' && ENTITY_TYPE.test(t))) throw badInput('entityTypes', 'entity types must be identifiers');
  if (s.metadata !== undefined && (!isObject(s.metadata) || !Object.values(s.metadata).every(isObject))) throw badInput('metadata', 'metadata must map entity types to objects');
  if (s.metadataPolicyCrit !== undefined && !(Array.isArray(s.metadataPolicyCrit) && s.metadataPolicyCrit.every((x) => typeof x === 'string'))) throw badInput('metadataPolicyCrit', 'must be an array of operator names');
  if (s.metadataPolicy !== undefined) validateMetadataPolicy(s.metadataPolicy, new Set(s.metadataPolicyCrit ?? []));
  if (s.constraints !== undefined) {
    const c = s.constraints;
    if (!isObject(c)) throw badInput('constraints', 'constraints must be an object');
    if (c.max_path_length !== undefined && !(Number.isInteger(c.max_path_length) && c.max_path_length >= 0)) throw badInput('constraints', 'max_path_length must be an integer ≥ 0');
    if (c.allowed_entity_types !== undefined && !(Array.isArray(c.allowed_entity_types) && !c.allowed_entity_types.includes('federation_entity'))) throw badInput('constraints', 'allowed_entity_types must be an array without federation_entity');
    const nc = c.naming_constraints;
    if (nc !== undefined && !(isObject(nc) && [nc.permitted, nc.excluded].every((x) => x === undefined || (Array.isArray(x) && x.every((y) => typeof y === 'string'))))) {
      throw badInput('constraints', 'naming_constraints must hold permitted/excluded arrays of names');
    }
  }
  return s;
}

interface Row {
  entity_id: string; jwks: unknown; entity_types: unknown; metadata: unknown; metadata_policy: unknown; metadata_policy_crit: unknown; constraints: unknown;
  added_at: Date | string; added_by: string; updated_at: Date | string;
}
const json = <T>(v: unknown): T | undefined => (v === null || v === undefined ? undefined : (typeof v === 'string' ? JSON.parse(v) : v) as T);
const toRecord = (r: Row): SubordinateRecord => ({
  entityId: r.entity_id,
  jwks: json<Jwks>(r.jwks)!,
  entityTypes: json<string[]>(r.entity_types) ?? [],
  metadata: json<Metadata>(r.metadata),
  metadataPolicy: json<MetadataPolicy>(r.metadata_policy),
  metadataPolicyCrit: json<string[]>(r.metadata_policy_crit),
  constraints: json<Constraints>(r.constraints),
  addedAt: new Date(r.added_at).toISOString(),
  addedBy: r.added_by,
  updatedAt: new Date(r.updated_at).toISOString(),
});

export function createRegistry(db: Db, clock: Clock, policy: UrlPolicy): Registry {
  const audit = (q: Queryable, actor: string, action: string, entityId: string, details: Record<string, unknown>) =>
    q.query('insert into federation.audit (at, actor, action, entity_id, details) values ($1, $2, $3, $4, $5)', [clock.now().toISOString(), actor, action, entityId, JSON.stringify(details)]);
  const j = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

  return {
    async put(input, actor) {
      const s = checkSubordinate(input, policy);
      const now = clock.now().toISOString();
      await db.tx(async (q) => {
        const before = await q.query<{ removed_at: unknown }>('select removed_at from federation.subordinates where entity_id = $1 for update', [s.entityId]);
        const existed = before.rows.length > 0 && before.rows[0]!.removed_at === null;
        await q.query(
          `insert into federation.subordinates (entity_id, jwks, entity_types, metadata, metadata_policy, metadata_policy_crit, constraints, added_at, added_by, updated_at)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8)
           on conflict (entity_id) do update set jwks = excluded.jwks, entity_types = excluded.entity_types, metadata = excluded.metadata,
             metadata_policy = excluded.metadata_policy, metadata_policy_crit = excluded.metadata_policy_crit, constraints = excluded.constraints,
             updated_at = excluded.updated_at, removed_at = null, removed_by = null,
             added_at = case when federation.subordinates.removed_at is null then federation.subordinates.added_at else excluded.added_at end,
             added_by = case when federation.subordinates.removed_at is null then federation.subordinates.added_by else excluded.added_by end`,
          [s.entityId, j(s.jwks), j(s.entityTypes), j(s.metadata), j(s.metadataPolicy), j(s.metadataPolicyCrit), j(s.constraints), now, actor],
        );
        await audit(q, actor, existed ? 'federation.subordinate.update' : 'federation.subordinate.add', s.entityId, {
          kids: s.jwks.keys.map((k) => k.kid), entityTypes: s.entityTypes,
          metadataPolicy: s.metadataPolicy ?? null, constraints: s.constraints ?? null, metadata: s.metadata ?? null,
        });
      });
      return (await this.get(s.entityId))!;
    },
    async remove(entityId, actor) {
      await db.tx(async (q) => {
        const r = await q.query('update federation.subordinates set removed_at = $2, removed_by = $3 where entity_id = $1 and removed_at is null', [entityId, clock.now().toISOString(), actor]);
        if (r.rowCount === 0) throw new AppError('FEDERATION_SUBORDINATE_UNKNOWN', '未登记该下级实体 / no such subordinate is registered', { entityId });
        await audit(q, actor, 'federation.subordinate.remove', entityId, {});
      });
    },
    async get(entityId) {
      const { rows } = await db.query<Row>('select * from federation.subordinates where entity_id = $1 and removed_at is null', [entityId]);
      return rows[0] ? toRecord(rows[0]) : null;
    },
    async list(filter = {}) {
      const { rows } = filter.entityType
        ? await db.query<Row>('select * from federation.subordinates where removed_at is null and entity_types @> $1::jsonb order by entity_id', [JSON.stringify([filter.entityType])])
        : await db.query<Row>('select * from federation.subordinates where removed_at is null order by entity_id');
      return rows.map(toRecord);
    },
    async audit(limit = 100) {
      const { rows } = await db.query<{ at: Date | string; actor: string; action: string; entity_id: string | null; details: unknown }>(
        'select at, actor, action, entity_id, details from federation.audit order by id desc limit $1', [limit]);
      return rows.map((r) => ({ at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, entityId: r.entity_id, details: json<Record<string, unknown>>(r.details) ?? {} }));
    },
  };
}
