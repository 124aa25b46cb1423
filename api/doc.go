// Package api is the client for the 7moor v7 OpenAPI endpoints m7import uses:
// the preview dial-out task endpoints (create, update, get, import, delete
// numbers) and the agent query.
//
// Every request is signed per ../shared/spec/AUTH.md with a fresh nonce and
// timestamp, the response body is read up to a bound, and every failure is a
// *Error that Classify sorts into Retryable, Ambiguous or Permanent: the one
// place where retry policy is decided. The guesses this package makes where
// the vendor document is silent or contradicts itself are listed in
// deviations.go.
package api
