/**
 * The federation `npm run tiers` runs on one machine (R-ID-12): a national platform (the Trust
 * Anchor), a province in each build mode and a city below the separate and the hybrid province.
 * Each platform is its own process with its own data directory and its own block of ports, and
 * talks to the others only over HTTP, as platforms of different tiers do.
 *
 * Build modes (national guide, part 3 §(四), figures 3-8 … 3-10):
 * - `separate` (分建): every tier registers and stores its own users;
 * - `hybrid` (统分): the city's login and registration are the province's, accounts live there;
 * - `unified` (统建): one provincial store; city portals are only clients of the province.
 */

import type { PlatformMode, PlatformTier } from '../../federation/index.ts';

/** A platform's tier and build mode, as the federation's directory reads them from its metadata. */
export type Tier = PlatformTier;
export type BuildMode = PlatformMode;

export interface TierPlatform {
  /** Short identifier: also IDP_PLATFORM_ID and the data directory's name. */
  id: string;
  name: string;
  tier: Tier;
  /** The build mode of its province (the national platform stores its own users: `separate`). */
  mode: BuildMode;
  /** Administrative division code of the region it serves (GB/T 2260). */
  region: string;
  /** The platform's superior (its `authority_hints`); none at the trust anchor. */
  superior?: string;
}

/** Offsets of each service inside a platform's block of ports. */
export const PORT_OFFSETS = { idp: 0, item: 1, case: 2, licence: 3, evaluation: 4, gateway: 5, portal: 6 } as const;
export type ServicePort = keyof typeof PORT_OFFSETS;
/** Ports reserved per platform (the block of the n-th platform starts at base + n × PORT_BLOCK). */
export const PORT_BLOCK = 10;
export const DEFAULT_BASE_PORT = 4500;

/** Started in this order: a superior always before the platforms below it. */
export const TIERS: readonly TierPlatform[] = [
  { id: 'national', name: '国家政务服务平台 / national platform', tier: 'national', mode: 'separate', region: '000000' },
  { id: 'zj', name: '浙江省（分建）/ Zhejiang, separate', tier: 'provincial', mode: 'separate', region: '330000', superior: 'national' },
  { id: 'js', name: '江苏省（统分）/ Jiangsu, hybrid', tier: 'provincial', mode: 'hybrid', region: '320000', superior: 'national' },
  { id: 'gd', name: '广东省（统建）/ Guangdong, unified', tier: 'provincial', mode: 'unified', region: '440000', superior: 'national' },
  { id: 'zj-hz', name: '杭州市（分建）/ Hangzhou, separate', tier: 'municipal', mode: 'separate', region: '330100', superior: 'zj' },
  { id: 'js-nj', name: '南京市（统分）/ Nanjing, hybrid', tier: 'municipal', mode: 'hybrid', region: '320100', superior: 'js' },
];

/** What a platform process needs to start (sent by `npm run tiers` to bin/tiers/platform.ts). */
export interface PlatformSpec extends TierPlatform {
  dataDir: string;
  /** Its ports (its block from --base-port, or free ports the parent chose). */
  ports: Record<ServicePort, number>;
  /** Entity Identifiers of its superiors (empty at the anchor). */
  authorityHints: string[];
  /** The trust anchors it accepts (JSON), or `self` at the anchor. */
  trustAnchors: 'self' | Array<{ entityId: string; jwks: { keys: unknown[] } }>;
  /** The national seal root (PEM file) its seal CA chains to (./seal.ts); none at the national platform. */
  sealAnchors?: string;
}

/** What a platform process reports once every one of its services answers. */
export interface PlatformReady {
  type: 'ready';
  id: string;
  entityId: string;
  issuer: string;
  gateway: string;
  services: Record<string, string>;
  /** Its federation public keys, for its superior's registry. */
  jwks: { keys: unknown[] };
  /** Its seal CA's PKCS #10 request while the national root has not certified it (./seal.ts). */
  sealCaRequest?: string | null;
}

/** A subordinate the superior registers (parent → superior's process). */
export interface RegisterMessage {
  type: 'register';
  entityId: string;
  jwks: { keys: unknown[] };
  entityTypes: string[];
  constraints?: Record<string, unknown>;
}

/** The entry of tiers.json for one platform. */
export interface TiersJsonPlatform {
  id: string;
  name: string;
  tier: Tier;
  mode: BuildMode;
  entityId: string;
  issuer: string;
  gateway: string;
  /** Its licence service: `POST <licence>/verify`, the verify page `GET <licence>/verify`. */
  licence: string;
}

export interface TiersJson {
  trustAnchor: string;
  /** The national seal root every platform verifies licences with (PEM file; also `yiwang verify --trust`). */
  sealTrustAnchors: string;
  platforms: TiersJsonPlatform[];
}
