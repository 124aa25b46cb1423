package api

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
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

// Error describes the failure in one line, e.g.
//
//	7moor /openapi/v1/call/dialout/task/import: HTTP 401: code 401: sign error
//
// Each part appears once: an empty code or message is left out, a message
// that only repeats the code is not printed twice, and a transport cause is
// printed without the URL *url.Error repeats. It never contains the secret:
// the secret is neither sent nor part of any field.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("7moor ")
	b.WriteString(e.Endpoint)
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.HTTPStatus)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, ": code %s", e.Code)
	}
	if e.Message != "" && e.Message != e.Code {
		b.WriteString(": ")
		b.WriteString(e.Message)
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
		cause := e.Err
		var ue *url.Error
		if errors.As(cause, &ue) && ue.Err != nil {
			// "Post \"http://host/path\": EOF" names the endpoint again.
			cause = ue.Err
		}
		fmt.Fprintf(&b, ": %v", cause)
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
	// Permanent: the server refused the request without processing it
	// (auth, validation, an unknown task) or the client could not build it.
	// Resending the same request gives the same answer.
	Permanent Class = iota
	// Retryable: the request certainly was not processed (never sent, or
	// refused before processing with 429/503 or as a replay). Resend it.
	Retryable
	// Ambiguous: the request may have been processed (sent and then no
	// trustworthy answer, 500/502/504, or success:false with a code not
	// known to mean "not processed"). Resend only if a repeat is harmless
	// (import rule 0 or 1); otherwise settle it by the task's numberTotal.
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
//     waiting for the reply: the server may be processing it still, or have
//     dropped the connection before or after processing). A TLS certificate
//     failure is Permanent.
//   - A non-2xx status is classified by the status (the protocol's own
//     statement about the request), whatever code the body carries.
//     429 or 503, or a replay refusal (409): Retryable; the server said it
//     did not process the request. The replay case needs a fresh nonce,
//     which every attempt gets anyway (NOTES.md "nonces").
//     500, 502, 504 and every other 5xx: Ambiguous: the server may have done
//     the work before failing, the dangerous case for an import under rule 2.
//     A gateway's HTML "502 Bad Gateway" is no exception: the gateway may
//     have forwarded the request to an upstream that processed it and then
//     died, so the task's count must settle it.
//     Every other status (other 4xx, 3xx): Permanent.
//   - A 2xx whose body was too large, cut off, or not a valid envelope (or
//     whose data did not decode): Ambiguous; the server answered, but what it
//     said cannot be trusted.
//   - success:false under a 2xx: the class of its code when the code is one
//     known to mean "refused, not processed" (see refusedCode: e.g. "429"
//     Retryable, "401" Permanent); any other code, a vendor business error
//     such as "ERR_BUSY" included, is Ambiguous: the vendor documents no
//     codes, and a server may report a failure after it processed the batch
//     (NOTES.md "business error codes").
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
		if class, ok := refusedCode(e.Code); ok {
			return class
		}
		return Ambiguous
	}
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusConflict:
		return Retryable
	}
	if status >= 500 {
		// 500, 502, 504 and the rest: nothing says the work was not done.
		return Ambiguous
	}
	return Permanent
}

// refusedCode returns the class of an envelope code known to mean that the
// server refused the request without processing it, and false for every
// other code. This is the list NOTES.md ("business error codes") asks the
// classifier to keep: a success:false whose code is not here is Ambiguous.
//
// The vendor document names no error codes. What is here:
//   - the HTTP-like codes the simulator answers with (the Code* constants in
//     deviations.go), each of which it sends only for a request it refused
//     before touching any data: validation (bad JSON, a missing taskId or
//     rule, a rule out of range, an empty importData, more than
//     MaxImportRows rows, a row without a number: the whole call is refused),
//     an unknown task or path, method, content type, body size, credentials,
//     clock, replay, rate limit, overload;
//   - vendor business codes observed to mean "not processed": none yet. Add
//     one here, with where it was observed, only when a real reply proved
//     that the call it refused changed nothing.
//
// CodeInternal ("500") and codes such as "502" or "504" are deliberately
// absent: they are Ambiguous like any unknown code.
func refusedCode(code string) (Class, bool) {
	switch code {
	case CodeInvalid, CodeNotFound, CodeMethod, CodeTooLarge, CodeContentType:
		return Permanent, true
	case CodeAuth, CodeClockSkew:
		// Refused credentials; IsAuth stops the run.
		return Permanent, true
	case CodeReplay, CodeRateLimited, CodeUnavailable:
		return Retryable, true
	}
	return Permanent, false
}

// RetryAfter returns the Retry-After the server sent with err, or 0. The
// value is returned as the server sent it, however long (Retry-After: 86400
// is 24h): capping it is the retry schedule's decision, which can then say
// that the server asked for a longer wait than it will make.
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

// parseRetryAfter parses a Retry-After header: delay seconds or an HTTP date
// (any of the three forms http.ParseTime reads), relative to now. Absent,
// malformed or past values give 0. The value is not capped (see RetryAfter),
// except that one too large for a time.Duration (about 292 years) is read as
// the largest Duration.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if allDigits(v) {
		secs, err := strconv.ParseInt(v, 10, 64)
		if err != nil || secs > int64(math.MaxInt64/time.Second) {
			// Only a number too large for int64 fails here.
			return math.MaxInt64
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

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
