package cookiesession

import (
	"fmt"
	"time"
)

// Names the black-box tests need and users do not.

const (
	Version     = version
	MinTokenLen = minTokenLen
	ClockSkew   = clockSkew
	MaxCauses   = maxCauses
	MaxLogText  = maxLogText
)

// Inside reports whether a call site search passes over function.
var Inside = inside

// WrongTypeCauses returns how many causes of a getter's wrong-type line
// the Manager remembers.
func (m *Manager) WrongTypeCauses() int {
	m.wrongTypes.mu.RLock()
	defer m.wrongTypes.mu.RUnlock()
	return len(m.wrongTypes.seen)
}

// DecodeValues parses a values section as FORMAT.md specifies it.
func DecodeValues(b []byte) (Values, error) {
	var v Values
	if err := v.decode(string(b)); err != nil {
		return Values{}, fmt.Errorf("cookiesession: %w", err)
	}
	return v, nil
}

// AppendEncoded appends the canonical encoding of v to b.
func (v *Values) AppendEncoded(b []byte) []byte { return v.appendTo(b) }

// Clone returns a copy of v.
func (v *Values) Clone() Values { return *v }

// Codec returns the codec the Manager seals with.
func (m *Manager) Codec() *Codec { return m.codec }

func (c *Codec) Name() string             { return c.name }
func (c *Codec) TokenLen(rec *Record) int { return c.tokenLen(rec) }
func (c *Codec) Expiry(created, sealedAt time.Time) time.Time {
	return c.expiry(created, sealedAt, &Lifetime{})
}

// PrimaryAt and KeysAt read the ring as of t.
func (r *KeyRing) PrimaryAt(t time.Time) uint32 { return r.primaryAt(t) }
func (r *KeyRing) KeysAt(t time.Time) []KeyInfo { return r.keysAt(t) }

// SetGoJarDropsLoopback makes the Manager take net/http/cookiejar as
// dropping, or keeping, a Secure cookie for http://127.0.0.1, whatever
// this Go's jar does, until restore is called. Not for parallel tests.
func SetGoJarDropsLoopback(drops bool) (restore func()) {
	saved := goJarDropsLoopback
	goJarDropsLoopback = func() bool { return drops }
	return func() { goJarDropsLoopback = saved }
}

// ParseRingFileText parses data as LoadKeyRingFile does the text of the
// file path, without reading a file.
func ParseRingFileText(data []byte, path string) error {
	_, err := parseRingText(data, path)
	return err
}
