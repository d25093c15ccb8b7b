// Package promsession exports a cookiesession Manager's counters and its
// running key ring to Prometheus.
//
//	prometheus.MustRegister(promsession.NewCollector(mgr, "myapp"))
//
// With namespace "myapp" the metrics are:
//
//	myapp_cookiesession_opened_total{key_id}        tokens opened, by key id
//	myapp_cookiesession_refused_total{reason}       cookies refused: unknown_key, expired, bad_encoding, auth_failed, validate, clock_skew
//	myapp_cookiesession_resealed_total              tokens re-sealed only to move them to the primary key
//	myapp_cookiesession_written_total               tokens sealed into a response
//	myapp_cookiesession_cleared_total               responses that expired the client's cookies
//	myapp_cookiesession_too_large_total             sessions that did not fit
//	myapp_cookiesession_key_info{key_id,primary,promote_at}  1 for each key the ring holds
//
// Every metric carries a constant label cookie, the Manager's cookie name,
// so that several Managers can share one registry. Key ids are the 8 hex
// digits cookiesession.FormatKeyID prints; promote_at is RFC 3339 in UTC,
// or "" for none. No secret is ever exported.
//
// During a rotation, opened_total for the old key id stops growing once no
// client holds a token under it, and key_info shows whether an instance has
// loaded a key before it is promoted.
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

	opened, refused, keyInfo             *prometheus.Desc
	resealed, written, cleared, tooLarge *prometheus.Desc
}

// NewCollector returns a Collector for m's counters and key ring, with
// metric names under namespace (see the package documentation). The
// counters count from the Manager's creation.
func NewCollector(m *cookiesession.Manager, namespace string) prometheus.Collector {
	cookie := prometheus.Labels{"cookie": m.CookieNames()[0]}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "cookiesession", name), help, labels, cookie)
	}
	return &collector{
		m:        m,
		opened:   desc("opened_total", "Session tokens opened, by the id of the key that sealed them.", "key_id"),
		refused:  desc("refused_total", "Session cookies refused, by reason.", "reason"),
		resealed: desc("resealed_total", "Tokens re-sealed only to move them from an old key to the primary."),
		written:  desc("written_total", "Session tokens sealed into a response."),
		cleared:  desc("cleared_total", "Responses that expired the client's session cookies."),
		tooLarge: desc("too_large_total", "Sessions that did not fit the cookie size limit."),
		keyInfo: desc("key_info", "Each key of the running ring (never its secret): 1, with whether it is the primary and its scheduled promotion.",
			"key_id", "primary", "promote_at"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.opened, c.refused, c.resealed, c.written, c.cleared, c.tooLarge, c.keyInfo} {
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
	for _, k := range snap.Keys {
		promoteAt := ""
		if !k.PromoteAt.IsZero() {
			promoteAt = k.PromoteAt.UTC().Format(time.RFC3339)
		}
		ch <- prometheus.MustNewConstMetric(c.keyInfo, prometheus.GaugeValue, 1,
			cookiesession.FormatKeyID(k.ID), strconv.FormatBool(k.Primary), promoteAt)
	}
}
