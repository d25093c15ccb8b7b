// Package promsession exports a cookiesession Manager's counters and its
// running key ring to Prometheus.
//
//	prometheus.MustRegister(promsession.NewCollector(mgr, "myapp"))
//
// With namespace "myapp" the metrics are:
//
//	myapp_cookiesession_opened_total{key_id}        tokens opened, by key id
//	myapp_cookiesession_refused_total{reason}       cookies refused: unknown_key, expired, bad_encoding, auth_failed, validate, clock_skew
//	myapp_cookiesession_unknown_key_ids             different unknown key ids refused in the last minute, at most 32
//	myapp_cookiesession_resealed_total              tokens re-sealed only to move them to the primary key
//	myapp_cookiesession_written_total               tokens sealed into a response
//	myapp_cookiesession_cleared_total               responses that expired the client's cookies
//	myapp_cookiesession_too_large_total             sessions that did not fit
//	myapp_cookiesession_carried_total               sessions opened from a retired cookie of another name (RetiredCookie.Carry)
//	myapp_cookiesession_dropped_total{reason}       responses setting a cookie browsers drop: plain_http, domain, cross_site
//	myapp_cookiesession_lost_total{reason}          sessions whose change the client never got: after_commit, after_panic, unsaved
//	myapp_cookiesession_read_late_total             sessions first read once their response had gone out without Vary: Cookie
//	myapp_cookiesession_speculative_changes_total   responses carrying a session change made on a request sent ahead of a click (a prefetch)
//	myapp_cookiesession_shared_store_total          responses using the session, with no cookie, that a shared cache may store
//	myapp_cookiesession_key_info{key_id,primary,promote_at,fingerprint}  1 for each key the ring holds
//	myapp_cookiesession_keyring_reload_failures_total  failed reloads of the ring from its file
//	myapp_cookiesession_keyring_last_reload_successful  0 while the ring is not its file's (a reload fails) or the file is not watched, else 1
//	myapp_cookiesession_keyring_last_reload_success_timestamp_seconds  when the keys in force were read from the file
//
// Every metric carries a constant label cookie, the Manager's cookie name,
// so that several Managers can share one registry. Two Managers of one
// cookie name (Paths or Domains apart) need a namespace each: a registry
// refuses the second collector under the same one ("duplicate metrics
// collector registration attempted"; MustRegister panics). The ring's series
// (key_info and keyring_*) describe the key ring, not the Manager: the
// collectors of Managers that share one ring export the same values, each
// under its own cookie label, so one failed reload counts once under each.
// Do not sum them over cookie: alert per series, or take max without
// (cookie) where an instance's Managers share one ring. Key ids are the 8 hex
// digits cookiesession.FormatKeyID prints; promote_at is RFC 3339 in UTC,
// with a fraction of a second if the time has one, as /debug/vars and the
// ring's file show it, or "" for none; fingerprint is the key's (cookiesession.KeyInfo), a
// one-way digest of its secret. No secret is ever exported.
//
// During a rotation, opened_total for the old key id stops growing once no
// client holds a token under it, and key_info shows whether an instance has
// loaded a key before it is promoted. An instance whose reload fails (a
// torn or invalid file, a permissions change, a deleted file) keeps its old
// keys: keyring_last_reload_successful is 0 until the ring is its file's
// again, and under WatchFile, which retries every tick,
// keyring_reload_failures_total rises all along. Alert on the gauge held
// at 0 for a few minutes (a half-written file read once is retried at the
// next tick); the instance's log and cookiesession.Metrics.Reload say why.
// The timestamp is absent for a ring never loaded from a file.
package promsession

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/seed-ff2808ae/cookiesession"
)

// collector reads a fresh cookiesession.Metrics snapshot on every scrape.
type collector struct {
	m *cookiesession.Manager

	opened, refused, unknownKeyIDs, keyInfo       *prometheus.Desc
	resealed, written, cleared, tooLarge, dropped *prometheus.Desc
	carried, lost, readLate                       *prometheus.Desc
	speculativeChanges, sharedStore               *prometheus.Desc

	reloadFailures, reloadSuccessful, reloadSuccessTime *prometheus.Desc
}

// NewCollector returns a Collector for m's counters and key ring, with
// metric names under namespace (see the package documentation). The
// counters count from the Manager's creation.
func NewCollector(m *cookiesession.Manager, namespace string) prometheus.Collector {
	if m == nil {
		panic("cookiesession: promsession.NewCollector needs a Manager: a nil one is what cookiesession.New returns with an error, which must be checked")
	}
	cookie := prometheus.Labels{"cookie": m.CookieNames()[0]}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "cookiesession", name), help, labels, cookie)
	}
	return &collector{
		m:       m,
		opened:  desc("opened_total", "Session tokens opened, by the id of the key that sealed them.", "key_id"),
		refused: desc("refused_total", "Session cookies refused, by reason.", "reason"),
		unknownKeyIDs: desc("unknown_key_ids",
			"Different unknown key ids refused in the last minute, at most 32: one or two for a key removed too early or missing here, many for forged cookies."),
		resealed: desc("resealed_total", "Tokens re-sealed only to move them from an old key to the primary."),
		written:  desc("written_total", "Session tokens sealed into a response."),
		cleared:  desc("cleared_total", "Responses that expired the client's session cookies."),
		tooLarge: desc("too_large_total", "Sessions that did not fit the cookie size limit."),
		dropped:  desc("dropped_total", "Responses that set a session cookie browsers drop, by reason.", "reason"),
		carried:  desc("carried_total", "Sessions opened from a retired cookie of another name (RetiredCookie.Carry), each also under opened_total, and under written_total once written under this name."),
		lost:     desc("lost_total", "Sessions whose change the client never got, by reason, each at most once per reason.", "reason"),
		readLate: desc("read_late_total", "Sessions first read once their response had gone out without Vary: Cookie, which a shared cache may serve to every user."),
		speculativeChanges: desc("speculative_changes_total",
			"Responses carrying a change a handler made to its session (sign-out, renew, flash consumed, values) on a GET sent ahead of a click (a prefetch or prerender), which the user may never open."),
		sharedStore: desc("shared_store_total",
			"Responses whose handler used the session, with no cookie, that a field lets a shared cache store: only Vary: Cookie, which some CDNs ignore, keeps them from other users."),
		keyInfo: desc("key_info", "Each key of the running ring (never its secret): 1, with whether it is the primary, its scheduled promotion and its secret's fingerprint.",
			"key_id", "primary", "promote_at", "fingerprint"),
		reloadFailures:    desc("keyring_reload_failures_total", "Reloads of the key ring from its file that failed, each retry counted."),
		reloadSuccessful:  desc("keyring_last_reload_successful", "Whether the key ring holds its file's keys: 0 while a reload fails and the old keys stay in force, or while the file is not watched (WatchFile stopped or refused its interval)."),
		reloadSuccessTime: desc("keyring_last_reload_success_timestamp_seconds", "When the keys in force were read from the key ring's file."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.opened, c.refused, c.unknownKeyIDs, c.resealed, c.written, c.cleared, c.tooLarge, c.dropped, c.carried, c.lost, c.readLate, c.speculativeChanges, c.sharedStore, c.keyInfo,
		c.reloadFailures, c.reloadSuccessful, c.reloadSuccessTime} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.m.Metrics()
	counter := func(d *prometheus.Desc, n uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(n), labels...)
	}
	for id, n := range snap.Opened {
		counter(c.opened, n, id)
	}
	for reason, n := range snap.Refused {
		counter(c.refused, n, reason)
	}
	counter(c.resealed, snap.Resealed)
	counter(c.written, snap.Written)
	counter(c.cleared, snap.Cleared)
	counter(c.tooLarge, snap.TooLarge)
	counter(c.carried, snap.Carried)
	counter(c.readLate, snap.ReadLate)
	counter(c.speculativeChanges, snap.SpeculativeChanges)
	counter(c.sharedStore, snap.SharedStore)
	for reason, n := range snap.Dropped {
		counter(c.dropped, n, reason)
	}
	for reason, n := range snap.Lost {
		counter(c.lost, n, reason)
	}
	ch <- prometheus.MustNewConstMetric(c.unknownKeyIDs, prometheus.GaugeValue, float64(snap.UnknownKeyIDs))
	for _, k := range snap.Keys {
		promoteAt := ""
		if !k.PromoteAt.IsZero() {
			promoteAt = k.PromoteAt.UTC().Format(time.RFC3339Nano)
		}
		ch <- prometheus.MustNewConstMetric(c.keyInfo, prometheus.GaugeValue, 1,
			cookiesession.FormatKeyID(k.ID), strconv.FormatBool(k.Primary), promoteAt, k.Fingerprint)
	}
	c.collectReload(ch, snap.Reload)
}

func (c *collector) collectReload(ch chan<- prometheus.Metric, st cookiesession.ReloadStatus) {
	ch <- prometheus.MustNewConstMetric(c.reloadFailures, prometheus.CounterValue, float64(st.Failures))
	successful := 1.0
	if st.Error != "" {
		successful = 0
	}
	ch <- prometheus.MustNewConstMetric(c.reloadSuccessful, prometheus.GaugeValue, successful)
	if !st.LastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.reloadSuccessTime, prometheus.GaugeValue, float64(st.LastSuccess.UnixNano())/1e9)
	}
}
