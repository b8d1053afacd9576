/**
 * Events in tests, as services see them: `publish` writes a message exactly as the outbox relay
 * does (kernel/events.ts), `read` drains a stream through a consumer group of the test's own, so
 * tests can assert on what a service published without disturbing its consumers.
 */
import { randomUUID } from 'node:crypto';
import type { Cache, StreamMessage } from '../../kernel/cache.ts';

export interface StreamProbe {
  publish(stream: string, type: string, payload: Record<string, unknown>, id?: string): Promise<string>;
  read(stream: string): Promise<StreamMessage[]>;
}

export function streamProbe(cache: Cache): StreamProbe {
  const readers = new Map<string, string>();
  return {
    async publish(stream, type, payload, id = randomUUID()) {
      await cache.xAdd(stream, { id, type, occurredAt: new Date().toISOString(), payload: JSON.stringify(payload) });
      return id;
    },
    async read(stream) {
      let group = readers.get(stream);
      if (!group) {
        group = `test-${randomUUID().slice(0, 8)}`;
        readers.set(stream, group);
        await cache.xGroupCreate(stream, group);
      }
      const out: StreamMessage[] = [];
      for (;;) {
        const batch = await cache.xReadGroup(stream, group, 'reader', { count: 100, blockMs: 1 });
        out.push(...batch);
        if (batch.length < 100) return out;
      }
    },
  };
}
