package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"
)

// DefaultBaseURL is the v7 OpenAPI's address.
const DefaultBaseURL = "http://v7openapi.7moor.com"

// The endpoint paths, relative to the base URL.
const (
	PathCreateTask    = "/openapi/v1/call/dialout/task/create"
	PathUpdateTask    = "/openapi/v1/call/dialout/task/update"
	PathQueryTasks    = "/openapi/v1/call/dialout/task/get"
	PathImport        = "/openapi/v1/call/dialout/task/import"
	PathDeleteNumbers = "/openapi/v1/call/dialout/task/delete"
	PathQueryAgents   = "/openapi/v1/call/query/agent"
)

// Defaults of Config's zero fields.
const (
	DefaultTimeout          = 30 * time.Second
	DefaultMaxResponseBytes = 4 << 20
)

// Config configures a Client. AppKey and Secret are required; every other
// zero field takes its default.
type Config struct {
	// BaseURL is the API's scheme and host; default DefaultBaseURL.
	BaseURL string
	// AppKey (账户编号) and Secret (secretKey) are the account's credentials.
	// The secret only keys the signature; it is never sent or printed.
	AppKey, Secret string
	// HTTPClient sends the requests; default a client of its own that does
	// not follow redirects (a redirected POST would be sent twice).
	HTTPClient *http.Client
	// Timeout bounds each attempt, from sending to the end of the body;
	// default DefaultTimeout.
	Timeout time.Duration
	// Now is the clock for timestamps and Retry-After dates; default time.Now.
	Now func() time.Time
	// Nonce returns the m7-nonce of each request. The default draws 6 digits
	// from crypto/rand and never repeats one handed out in the last
	// ReplayWindow. An injected source is used as is (tests use it to
	// provoke a replay refusal).
	Nonce func() (string, error)
	// MaxResponseBytes bounds how much of a response body is read; default
	// DefaultMaxResponseBytes. A larger body fails the call with
	// ErrResponseTooLarge: Ambiguous when the status was 2xx (the server
	// may have done the work, but its answer cannot be trusted), otherwise
	// classified by the status.
	MaxResponseBytes int64
	// Limiter, when set, is waited on before every request (lookups and
	// imports alike, retries included), since the account's rate limit
	// counts them all.
	Limiter *rate.Limiter
}

// String describes the configuration without the secret, so that printing a
// Config with %v or %+v cannot leak it.
func (c Config) String() string {
	return fmt.Sprintf("api.Config{BaseURL:%q AppKey:%q Secret:[redacted] Timeout:%v MaxResponseBytes:%d}",
		c.BaseURL, c.AppKey, c.Timeout, c.MaxResponseBytes)
}

// GoString is String, for %#v.
func (c Config) GoString() string { return c.String() }

// Client calls the v7 OpenAPI. It is safe for concurrent use.
type Client struct {
	base    string
	appKey  string
	secret  string
	http    *http.Client
	timeout time.Duration
	now     func() time.Time
	nonce   func() (string, error)
	maxBody int64
	limiter *rate.Limiter
}

// New returns a Client for cfg. It refuses a missing app key or secret and a
// base URL that is not an absolute http(s) URL.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.AppKey) == "" {
		return nil, errors.New("api config: app key is required (M7_APPKEY)")
	}
	if cfg.Secret == "" {
		return nil, errors.New("api config: secret is required (M7_SECRET, M7_SECRET_FILE or --secret-file)")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("api config: base URL %q: %w", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api config: base URL %q: want http(s)://host[:port]", base)
	}
	c := &Client{
		base:    strings.TrimRight(base, "/"),
		appKey:  cfg.AppKey,
		secret:  cfg.Secret,
		http:    cfg.HTTPClient,
		timeout: cfg.Timeout,
		now:     cfg.Now,
		nonce:   cfg.Nonce,
		maxBody: cfg.MaxResponseBytes,
		limiter: cfg.Limiter,
	}
	if c.http == nil {
		transport := &http.Transport{Proxy: http.ProxyFromEnvironment}
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			transport = t.Clone()
		}
		c.http = &http.Client{
			Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.nonce == nil {
		c.nonce = newNonceSource(c.now).next
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	return c, nil
}

// Meta describes the response of a call, successful or not.
type Meta struct {
	// RequestID is the envelope's requestInfo.requestId ("" when none came).
	RequestID string
	// HTTPStatus is the response status (0 when none came).
	HTTPStatus int
}

// envelope is the JSON wrapper of every response.
type envelope struct {
	Success     bool            `json:"success"`
	Code        json.RawMessage `json:"code"`
	Message     string          `json:"message"`
	Data        json.RawMessage `json:"data"`
	RequestInfo struct {
		RequestID string `json:"requestId"`
	} `json:"requestInfo"`
}

// Post sends one signed attempt of body to path and decodes the envelope's
// data into data (when data is non-nil and the call succeeded). Each call
// gets a fresh nonce, timestamp and signature, so callers marshal a batch
// once and call Post per attempt. Every failure is an *Error.
func (c *Client) Post(ctx context.Context, path string, body []byte, data any) (Meta, error) {
	fail := func(e *Error) (Meta, error) {
		e.Endpoint = path
		return Meta{RequestID: e.RequestID, HTTPStatus: e.HTTPStatus}, e
	}
	if c.limiter != nil {
		// Before the timestamp: a request that waited is signed fresh.
		if err := c.limiter.Wait(ctx); err != nil {
			return fail(&Error{Err: fmt.Errorf("wait for rate limit: %w", err)})
		}
	}
	nonce, err := c.nonce()
	if err != nil {
		return fail(&Error{Err: fmt.Errorf("make nonce: %w", err)})
	}
	ts := Timestamp(c.now())

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				sent.Store(true)
			}
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return fail(&Error{Err: fmt.Errorf("build request: %w", err)})
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderAppKey, c.appKey)
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSign, Sign(c.appKey, c.secret, ts, nonce))

	resp, err := c.http.Do(req)
	if err != nil {
		return fail(&Error{Sent: sent.Load(), Err: err})
	}
	defer resp.Body.Close()
	e := &Error{
		HTTPStatus: resp.StatusCode,
		Sent:       true,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		e.Err = fmt.Errorf("read response: %w", err)
		return fail(e)
	}
	if int64(len(raw)) > c.maxBody {
		e.Err = fmt.Errorf("%w: more than %d bytes", ErrResponseTooLarge, c.maxBody)
		return fail(e)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		if resp.StatusCode/100 == 2 {
			e.Err = fmt.Errorf("%w: %v", ErrBadResponse, err)
		} else {
			e.Message = snippet(raw)
		}
		return fail(e)
	}
	e.Code = codeString(env.Code)
	e.Message = env.Message
	e.RequestID = env.RequestInfo.RequestID
	if resp.StatusCode/100 != 2 || !env.Success {
		return fail(e)
	}
	meta := Meta{RequestID: e.RequestID, HTTPStatus: resp.StatusCode}
	if data != nil && len(env.Data) > 0 && !bytes.Equal(env.Data, []byte("null")) {
		if err := json.Unmarshal(env.Data, data); err != nil {
			e.Err = fmt.Errorf("%w: data: %v", ErrBadResponse, err)
			return fail(e)
		}
	}
	return meta, nil
}

// codeString returns the envelope code as text whether it came as a JSON
// string ("200") or a number (200).
func codeString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// snippet returns a one-line description of a non-JSON error body, for the
// message: an HTML page's <title> (a gateway's "502 Bad Gateway"), otherwise
// the start of the body with its whitespace collapsed, at most 200 bytes of
// valid UTF-8.
func snippet(raw []byte) string {
	const max = 200
	if len(raw) > 64<<10 {
		raw = raw[:64<<10]
	}
	s := strings.ToValidUTF8(string(raw), "?")
	// ASCII-only lowering keeps every index valid in s.
	lower := strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
	if i := strings.Index(lower, "<title>"); i >= 0 {
		if j := strings.Index(lower[i:], "</title>"); j >= 0 {
			if title := strings.Join(strings.Fields(s[i+len("<title>"):i+j]), " "); title != "" {
				s = title
			}
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

// postJSON marshals req and posts it.
func (c *Client) postJSON(ctx context.Context, path string, req, data any) (Meta, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return Meta{}, fmt.Errorf("7moor %s: encode request: %w", path, err)
	}
	return c.Post(ctx, path, body, data)
}
