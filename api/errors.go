package api

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors callers can branch on with errors.Is.
var (
	// ErrTooManyRows refuses an import of more than MaxImportRows rows
	// before anything is sent.
	ErrTooManyRows = errors.New("too many rows for one import call")
	// ErrNoRows refuses an import without rows before anything is sent.
	ErrNoRows = errors.New("no rows to import")
	// ErrMissingTaskID refuses a call that needs a task id and has none.
	ErrMissingTaskID = errors.New("task id is required")
	// ErrResponseTooLarge is the cause of an *Error whose response body was
	// larger than Config.MaxResponseBytes.
	ErrResponseTooLarge = errors.New("response body too large")
	// ErrBadResponse is the cause of an *Error whose response could not be
	// decoded as the API's JSON envelope.
	ErrBadResponse = errors.New("response is not a valid API envelope")
)

// Error is a failed API call: refused by the server (HTTPStatus, Code,
// Message), or lost in transport (Err). Test for it with errors.As; decide
// what to do about it with Classify.
type Error struct {
	// Endpoint is the API path called, e.g. PathImport.
	Endpoint string
	// HTTPStatus is the response status; 0 when no response arrived.
	HTTPStatus int
	// Code and Message are the envelope's code and message, when one was
	// decoded.
	Code, Message string
	// RequestID is the envelope's requestInfo.requestId, when one was decoded.
	RequestID string
	// RetryAfter is the response's Retry-After, parsed; 0 when absent.
	RetryAfter time.Duration
	// Sent reports that the request (headers and body) was completely
	// written to the connection, as httptrace's WroteRequest saw it, or that
	// a response arrived: the server may have processed it.
	Sent bool
	// Err is the transport or decoding cause, if any.
	Err error
}

// Error describes the failure. It never contains the secret: the secret is
// neither sent nor part of any field.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("7moor ")
	b.WriteString(e.Endpoint)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" || e.Message != "" {
		fmt.Fprintf(&b, ": code %s: %s", e.Code, e.Message)
	}
	if e.Err != nil {
		switch {
		case e.HTTPStatus != 0:
			// the cause speaks for itself
		case e.Sent:
			b.WriteString(": request sent, no reply")
		default:
			b.WriteString(": request not sent")
		}
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request id %s)", e.RequestID)
	}
	return b.String()
}

// Unwrap returns the transport or decoding cause.
func (e *Error) Unwrap() error { return e.Err }

// Class is what a caller may do after a failed call.
type Class int

const (
	// Permanent: the server refused the request (auth, validation, a
	// business error) or the client could not build it. Resending the same
	// request gives the same answer.
	Permanent Class = iota
	// Retryable: the request certainly was not processed (never sent, or
	// refused before processing with 429/503 or as a replay). Resend it.
	Retryable
	// Ambiguous: the request may have been processed (sent and then no
	// trustworthy answer, or 500/502/504). Resend only if a repeat is
	// harmless (import rule 0 or 1).
	Ambiguous
)

// String returns "permanent", "retryable" or "ambiguous".
func (c Class) String() string {
	switch c {
	case Permanent:
		return "permanent"
	case Retryable:
		return "retryable"
	case Ambiguous:
		return "ambiguous"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classify decides whether a failed call may be retried. It is the one place
// where retry policy is decided; callers switch on its result.
//
//   - Not an *Error (a request refused locally, e.g. ErrTooManyRows), or
//     nil: Permanent.
//   - No response: Retryable if the request was not completely written
//     (connection refused, DNS failure, a context cancelled or timed out
//     before sending); Ambiguous if it was (timeout, reset or EOF while
//     waiting for the reply). A TLS certificate failure is Permanent.
//   - HTTP 429 or 503, or a replay refusal (409): Retryable; the server said
//     it did not process the request. The replay case needs a fresh nonce,
//     which every attempt gets anyway (NOTES.md "nonces").
//   - HTTP 500, 502, 504: Ambiguous: the server may have done the work before
//     failing, the dangerous case for an import under rule 2.
//   - A 2xx whose body was too large, cut off, or not a valid envelope (or
//     whose data did not decode): Ambiguous; the server answered, but what it
//     said cannot be trusted. A non-2xx with such a body is classified by its
//     status alone.
//   - Other 5xx: Ambiguous. Every other refusal (other 4xx, 3xx): Permanent.
//   - success:false under a 2xx is classified by its code as if the code were
//     the HTTP status, when it is one (100..599): "429" is Retryable, "500"
//     Ambiguous, "401" Permanent; any other code is a business error,
//     Permanent.
//
// Cancelling the context counts like any other transport failure: before the
// request was written it is Retryable (nothing reached the server; the caller
// is stopping anyway), after it Ambiguous.
func Classify(err error) Class {
	var e *Error
	if !errors.As(err, &e) {
		return Permanent
	}
	if e.HTTPStatus == 0 {
		var cert *tls.CertificateVerificationError
		if errors.As(e.Err, &cert) {
			return Permanent
		}
		if e.Sent {
			return Ambiguous
		}
		return Retryable
	}
	status := e.HTTPStatus
	if status >= 200 && status < 300 {
		if e.Err != nil {
			return Ambiguous
		}
		// An HTTP-like code stands for the status; vendor codes outside
		// 100..599 are business errors.
		status = http.StatusBadRequest
		if n, err := strconv.Atoi(e.Code); err == nil && n >= 100 && n <= 599 {
			status = n
		}
	}
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusConflict:
		return Retryable
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
		return Ambiguous
	}
	if status >= 500 {
		// Other server failures: nothing says the work was not done.
		return Ambiguous
	}
	return Permanent
}

// RetryAfter returns the Retry-After the server sent with err, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// IsAuth reports whether err is a refusal of the credentials: a missing or
// wrong app key or signature (401), or a timestamp too far from the server's
// clock (403). No later request can succeed, so an uploader stops the whole
// run. A replay refusal is not an auth failure.
func IsAuth(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.HTTPStatus {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	}
	return e.HTTPStatus >= 200 && e.HTTPStatus < 300 && (e.Code == CodeAuth || e.Code == CodeClockSkew)
}

// parseRetryAfter parses a Retry-After header: delay seconds or an HTTP date,
// relative to now. Absent, malformed or past values give 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
