/**
 * `npm start`: the whole platform in one process on the embedded defaults (PGlite under
 * DATA_DIR, the in-process Redis substitute), demo data seeded, URLs and logins printed.
 * Set DATABASE_URL / REDIS_URL to run the same thing on real servers. Ctrl-C stops cleanly.
 */
process.env.APOLLO_TELEMETRY_DISABLED = '1';

import { resolve } from 'node:path';
import { loadConfig } from '../kernel/config.ts';
import { openDeps, stopOnSignals } from '../kernel/service.ts';
import { isAppError } from '../kernel/errors.ts';
import { DEMO_CITIZEN, DEMO_STAFF } from '../kernel/demo.ts';
import { startPlatform } from './platform.ts';
import { DEMO_ADMINS, DEMO_ADMIN_PASSWORD } from '../idp/admin/seed.ts';

const started = performance.now();
try {
  // npm start is the demo: seed unless told otherwise; keep the console readable.
  const config = loadConfig({ SEED_DEMO: 'true', LOG_LEVEL: 'warn', ...process.env });
  const deps = await openDeps('yiwang', config);
  const platform = await startPlatform(deps, { ports: 'configured', seed: config.SEED_DEMO });
  stopOnSignals(deps, [{ name: 'platform', url: '', close: () => platform.close() }], () => console.log('Yiwang stopped. 已停止。'));
  const s = platform.services;
  const storage = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded PostgreSQL (PGlite) in ${resolve(config.DATA_DIR, 'pglite')}`;
  const cache = config.REDIS_URL ? 'Redis (REDIS_URL)' : 'in-process Redis substitute';
  const lines = [
    '',
    `一网 Yiwang is running — ${storage}; ${cache}.`,
    '',
    `  Guide pages 办事指南  ${s.portal.url}   (search, item guides, hot list, scenario navigation)`,
    `  Gateway (GraphQL)    ${s.gateway.url}/graphql`,
    `  Identity provider    ${s.idp.url}   (issuer; register at ${s.idp.url}/register)`,
    `  Item subgraph        ${s.item.url}`,
    `  Case subgraph        ${s.case.url}`,
    `  Licence subgraph     ${s.licence.url}   (verify page: ${s.licence.url}/verify; GET /trust-bundle.pem)`,
    `  Evaluation subgraph  ${s.evaluation.url}`,
    '  Each answers GET /healthz.',
  ];
  if (config.SEED_DEMO) {
    lines.push('', 'Demo logins 演示账号 (log in on the IdP pages; portal client id: yiwang-portal):',
      `  citizen 市民  ${DEMO_CITIZEN.name}  login ${DEMO_CITIZEN.idNumber} or ${DEMO_CITIZEN.mobile}  password ${DEMO_CITIZEN.password}`);
    for (const st of DEMO_STAFF) lines.push(`  staff 工作人员 ${st.name} (${st.roles.join(', ')})  login ${st.username}  password ${st.password}`);
    for (const a of DEMO_ADMINS) lines.push(`  administrator 管理员 ${a.name} (${a.roles.join(', ')})  login ${a.username}  password ${DEMO_ADMIN_PASSWORD}`);
  }
  lines.push('', `Started in ${((performance.now() - started) / 1000).toFixed(1)} s. Press Ctrl-C to stop. 按 Ctrl-C 停止。`, '');
  console.log(lines.join('\n'));
} catch (e) {
  console.error(isAppError(e) ? `${e.code}: ${e.message}` : e);
  if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') console.error('A port is already in use: stop the other process or set *_PORT (see README).');
  process.exit(1);
}
