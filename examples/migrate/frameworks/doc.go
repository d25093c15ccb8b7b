// Package frameworks tests examples/migrate's FromGorilla wired into echo
// (v4 and v5) and fiber apps, as README's "Migrating live users" gives it,
// over HTTPS to a client with a cookie jar. It is a module of its own so
// that examples/migrate, which users copy, needs neither framework.
package frameworks
