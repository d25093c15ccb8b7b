// Package chiexample tests the recipe for chi: the Manager's net/http
// middleware is chi middleware as it is, r.Use(sessions.Handler).
// Nothing here is imported; the tests are the point.
package chiexample
