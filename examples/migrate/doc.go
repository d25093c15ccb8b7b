// Package migrate is README's "Migrating live users": middleware that,
// for a transition period, carries a gorilla/sessions CookieStore session
// or an scs session into a request that has no cookiesession session
// yet, so that users stay signed in across the move. Its tests run it.
package migrate
