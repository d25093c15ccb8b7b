// Compiled by types.test.js against src/index.d.ts: each use the runtime
// allows type-checks, and each it refuses is marked @ts-expect-error, so a
// declaration that drifts from the runtime fails the test.

import { Codec, GoTime, KeyRing, parseKeyRing, SessionCookies, SessionError, Values } from '../../src/index.js';
import type { SessionRecord, Typed } from '../../src/index.js';

export function use(text: string, header: string | null): string[] {
  const ring: KeyRing = parseKeyRing(text);
  // @ts-expect-error a KeyRing comes from parseKeyRing
  new KeyRing();
  const cookies = new SessionCookies(ring, { name: 'session', sameSite: 'strict', maxChunks: 2 });
  let record: SessionRecord | null = null;
  try {
    record = cookies.open(header);
  } catch (err) {
    if (!(err instanceof SessionError) || err.kind === 'expired') throw err;
  }
  const mine = new SessionError('invalid', 'authentication failed', 7);
  // @ts-expect-error a SessionError is (kind, reason, keyId?), not Error's (message)
  new SessionError('authentication failed');
  const values = record?.values ?? new Values();
  values.set('visits', 1, 'int32').set('since', GoTime.fromDate(new Date(), 19800)).setJSON('prefs', { theme: 'dark' });
  const typed: Typed | undefined = values.getTyped('visits');
  if (typed?.type === 'int32') values.set('visits', typed.value + 1);
  const t = new GoTime(1767225600n, 0, 0);
  values.set('t', t.toDate());
  const codec: Codec = cookies.codec;
  codec.open(codec.seal({ values, lifetime: { maxAge: 3600 } }));
  if (record !== null) {
    record.expires = undefined;
    record.lifetime = { maxAge: 30 * 86400 };
    return cookies.seal(record, new Date(), cookies.chunksSent(header)).concat(mine.reason);
  }
  return cookies.clear();
}
