// Checked by types.test.js against src/index.d.ts: use, which the runtime
// allows, type-checks with tsc and runs without a refusal; misuse, never
// run, holds uses the runtime refuses or misreads, each of which tsc must
// refuse (ts-expect-error). A declaration that drifts from the runtime fails.

import { Codec, GoTime, KeyRing, parseKeyRing, SessionCookies, SessionError, Values } from '../../src/index.js';
import type { SessionRecord, Typed } from '../../src/index.js';

/** Reads the session in header (or none), re-seals it with a 30-day lifetime, and returns the Set-Cookie lines. */
export function use(text: string, header: string | null): string[] {
  const ring: KeyRing = parseKeyRing(text);
  const fingerprint: Promise<string | undefined> = ring.fingerprint(ring.primaryAt());
  void fingerprint;
  const cookies = new SessionCookies(ring, { name: 'session', sameSite: 'strict', maxChunks: 2, maxLifetime: 30 * 86400, refreshThreshold: 0.5 });
  let record: SessionRecord | null = null;
  try {
    record = cookies.open(header);
  } catch (err) {
    if (!(err instanceof SessionError) || err.kind === 'expired') throw err;
  }
  const values = record?.values ?? new Values();
  values.set('visits', 1, 'int32').set('since', GoTime.fromDate(new Date(), 19800)).setJSON('prefs', { theme: 'dark' });
  const typed: Typed | undefined = values.getTyped('visits');
  if (typed?.type === 'int32') values.set('visits', typed.value + 1);
  const t = new GoTime(1767225600n, 0, 0);
  values.set('t', t.toDate());
  const shown: string = `${t} ${String(t)}`;
  void shown;
  const codec: Codec = cookies.codec;
  codec.open(codec.seal({ values, lifetime: { maxAge: 3600 } }));
  if (record === null) return cookies.clear();
  // refresh writes only a session unchanged since open (this one changed: it is sealed below).
  const unchanged = cookies.open(header);
  const refreshed: string[] = unchanged === null ? [] : cookies.refresh(unchanged, new Date(), cookies.chunksSent(header));
  void refreshed;
  record.expires = undefined;
  record.lifetime = { maxAge: 30 * 86400 };
  const lines = cookies.seal(record, new Date(), cookies.chunksSent(header));
  const forwarded: string = cookies.forward(header, lines);
  void forwarded;
  return cookies.merge(new Headers().getSetCookie(), lines);
}

/** Never run. */
export function misuse(): SessionError {
  // @ts-expect-error a KeyRing comes from parseKeyRing (the constructor throws)
  new KeyRing();
  // @ts-expect-error the fingerprint comes from WebCrypto's SHA-256, which is async
  const fingerprint: string = parseKeyRing('').fingerprint(1);
  void fingerprint;
  // @ts-expect-error a SessionError is (kind, reason, keyId?), not Error's (message)
  new SessionError('authentication failed');
  const t = new GoTime(1767225600n);
  // @ts-expect-error a GoTime is not a Date: new Date(t) throws (use t.toDate())
  new Date(t);
  // @ts-expect-error nor a number: t < date throws, where it read NaN
  void (t < new Date());
  return new SessionError('invalid', 'authentication failed', 7);
}
