// Package migrate is README's "Migrating live users": middleware that,
// for a transition period, carries a gorilla/sessions CookieStore session,
// an scs session or an express-session session into a request that has no
// cookiesession session yet, so that users stay signed in across the move.
// Its tests run it; TestFromExpress runs express-session itself, with node,
// from the express directory (npm ci there).
package migrate
