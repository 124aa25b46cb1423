// Package sim is a local simulator of the 7moor v7 OpenAPI endpoints that
// m7import uses, faithful enough that a client written only from the vendor
// document works against it unchanged. It verifies signatures, keeps tasks
// and numbers in memory, applies the import dedupe rules, rate-limits, and
// injects faults on demand; its inspection methods tell tests exactly what
// the "server" holds.
//
// Its answers to what the vendor document leaves open are the ones listed in
// api/deviations.go and ../shared/spec/NOTES.md.
//
// A Server is an http.Handler: serve it with httptest.NewServer in tests, or
// with an http.Server for `m7import sim`:
//
//	srv := sim.New(sim.Config{AppKey: key, Secret: secret, RateLimit: 20})
//	http.ListenAndServe("127.0.0.1:8907", srv)
//
// Everything it holds is in memory and lost when the process ends.
package sim

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/m7import/m7import/api"
)

// The development credentials `m7import sim` uses when given none. They guard
// nothing real (NOTES.md, "the simulator's secret").
const (
	DevAppKey = "m7sim-dev"
	DevSecret = "m7sim-dev-secret-not-for-production"
)

// StatePath is the read-only JSON inspection endpoint (GET, no auth).
const StatePath = "/_sim/state"

// MaxRequestBytes bounds a request body the simulator reads.
const MaxRequestBytes = 16 << 20

// The endpoint names used by SetFaults, Stats and CallTimes.
const (
	EndpointCreate = "create"
	EndpointUpdate = "update"
	EndpointGet    = "get"
	EndpointImport = "import"
	EndpointDelete = "delete"
	EndpointAgent  = "agent"
	// EndpointOther counts requests to paths that are no endpoint.
	EndpointOther = "other"
	// EndpointAll in SetFaults applies faults to every endpoint; in
	// CallTimes it merges every endpoint.
	EndpointAll = "*"
)

// endpointOf names the endpoint served at path.
func endpointOf(path string) (string, bool) {
	switch path {
	case api.PathCreateTask:
		return EndpointCreate, true
	case api.PathUpdateTask:
		return EndpointUpdate, true
	case api.PathQueryTasks:
		return EndpointGet, true
	case api.PathImport:
		return EndpointImport, true
	case api.PathDeleteNumbers:
		return EndpointDelete, true
	case api.PathQueryAgents:
		return EndpointAgent, true
	}
	return EndpointOther, false
}

// Config configures a Server. Zero fields take defaults.
type Config struct {
	// AppKey and Secret are the one account the server accepts; each
	// defaults to DevAppKey or DevSecret when empty.
	AppKey, Secret string
	// Now is the server clock (timestamps, replay window, rate limit,
	// createTime); default time.Now.
	Now func() time.Time
	// RateLimit is the requests per second the app key may send; 0 means no
	// limit. Burst is the limiter's bucket size; default max(1, RateLimit).
	RateLimit float64
	Burst     int
	// Seed makes task ids, request ids and probabilistic faults repeatable.
	Seed int64
	// Agents are the account's agents; default DefaultAgents().
	Agents []api.Agent
}

// DefaultAgents returns the agents a Server has unless configured otherwise:
// 2000 and 2001 enabled, 2002 disabled.
func DefaultAgents() []api.Agent {
	return []api.Agent{
		{ID: "5fc9d54105fd0161a498c4fc", AgentNumber: "2000", AgentName: "张三", Status: api.AgentEnabled,
			Roles: []string{"座席"}, Mobile: "10010", Queue: []api.AgentQueue{{ID: "10000123", Name: "售前"}}},
		{ID: "5fc9d54105fd0161a498c4fd", AgentNumber: "2001", AgentName: "李四", Status: api.AgentEnabled,
			Roles: []string{"座席"}, Mobile: "10011", Queue: []api.AgentQueue{{ID: "10000123", Name: "售前"}}},
		{ID: "5fc9d54105fd0161a498c4fe", AgentNumber: "2002", AgentName: "王五", Status: api.AgentDisabled,
			Roles: []string{"座席"}, Mobile: "10012"},
	}
}

// Server is the simulator: an http.Handler serving the API paths and
// StatePath. It is safe for concurrent use.
type Server struct {
	appKey, secret string
	now            func() time.Time
	agents         []api.Agent
	agentStatus    map[string]string

	mu          sync.Mutex
	rng         *rand.Rand
	limiter     *rate.Limiter
	replay      map[string]struct{}
	replayOrder []seen
	tasks       []*task
	byID        map[string]*task
	global      map[string]int // number -> rows holding it, all tasks
	faults      map[string][]*faultState
	stats       map[string]*EndpointStats
	calls       map[string][]time.Time
	pending     int           // requests FaultProcessLate holds, all endpoints
	idle        chan struct{} // closed when pending drops to 0
	added       int           // numbers AddNumbers made, for fresh ones
}

type seen struct {
	key string
	at  time.Time
}

// New returns a Server for cfg.
func New(cfg Config) *Server {
	s := &Server{
		appKey:      cfg.AppKey,
		secret:      cfg.Secret,
		now:         cfg.Now,
		agents:      cfg.Agents,
		agentStatus: make(map[string]string),
		rng:         rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6d37696d706f7274)),
		replay:      make(map[string]struct{}),
		byID:        make(map[string]*task),
		global:      make(map[string]int),
		faults:      make(map[string][]*faultState),
		stats:       make(map[string]*EndpointStats),
		calls:       make(map[string][]time.Time),
	}
	if s.appKey == "" {
		s.appKey = DevAppKey
	}
	if s.secret == "" {
		s.secret = DevSecret
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.agents == nil {
		s.agents = DefaultAgents()
	}
	for _, a := range s.agents {
		s.agentStatus[a.AgentNumber] = a.Status
	}
	if cfg.RateLimit > 0 {
		burst := cfg.Burst
		if burst <= 0 {
			burst = max(1, int(math.Ceil(cfg.RateLimit)))
		}
		s.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), burst)
	}
	return s
}

// AppKey returns the app key the server accepts.
func (s *Server) AppKey() string { return s.appKey }

// reply is one answer: a status, an envelope and, on success, the data.
type reply struct {
	status     int
	code       string
	message    string
	data       any // encoded as the envelope's data; nil = absent
	retryAfter time.Duration
	injected   bool // an injected fault, counted in Faults, not Refused
}

func refuse(status int, code, format string, args ...any) *reply {
	return &reply{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func ok(data any) *reply {
	return &reply{status: http.StatusOK, code: api.CodeOK, message: "requestSuccess", data: data}
}

// ServeHTTP answers one request: StatePath, or an API call checked in the
// order a gateway would: method, content type, body size, headers and
// signature, timestamp, replay, rate limit, injected faults, JSON, and the
// endpoint's own validation.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == StatePath {
		s.serveState(w, r)
		return
	}
	endpoint, known := endpointOf(r.URL.Path)
	s.mu.Lock()
	st := s.stat(endpoint)
	st.Calls++
	s.calls[endpoint] = append(s.calls[endpoint], s.now())
	requestID := s.requestID()
	s.mu.Unlock()

	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				s.write(w, r, endpoint, requestID, nil, refuse(http.StatusRequestEntityTooLarge, api.CodeTooLarge,
					"request body over %d bytes", MaxRequestBytes))
				return
			}
			s.write(w, r, endpoint, requestID, nil, refuse(http.StatusBadRequest, api.CodeInvalid, "read request body: %v", err))
			return
		}
		body = b
	}
	if !known {
		s.write(w, r, endpoint, requestID, body, refuse(http.StatusNotFound, api.CodeNotFound, "no such API path %q", r.URL.Path))
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.write(w, r, endpoint, requestID, body, refuse(http.StatusMethodNotAllowed, api.CodeMethod,
			"method %s not allowed: every API call is a POST", r.Method))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.write(w, r, endpoint, requestID, body, refuse(http.StatusUnsupportedMediaType, api.CodeContentType,
			"content-type must be application/json, got %q", r.Header.Get("Content-Type")))
		return
	}
	if rep := s.admit(r); rep != nil {
		s.write(w, r, endpoint, requestID, body, rep)
		return
	}

	d := s.decideFaults(endpoint)
	if d.latency > 0 {
		t := time.NewTimer(d.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch d.Mode {
	case Fault503:
		rep := refuse(http.StatusServiceUnavailable, api.CodeUnavailable, "service unavailable (injected fault)")
		rep.retryAfter, rep.injected = d.RetryAfter, true
		s.write(w, r, endpoint, requestID, body, rep)
		return
	case Fault429:
		rep := refuse(http.StatusTooManyRequests, api.CodeRateLimited, "too many requests (injected fault)")
		rep.retryAfter, rep.injected = d.RetryAfter, true
		s.write(w, r, endpoint, requestID, body, rep)
		return
	case FaultDropBefore:
		drop(w)
		return
	case FaultGateway502:
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Server", "nginx")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, gatewayPage)
		return
	case FaultProcessLate:
		s.processLate(w, r, endpoint, requestID, body, d.Latency)
		return
	}

	rep := s.handle(endpoint, body)
	switch d.Mode {
	case FaultProcessThen500:
		fault := refuse(http.StatusInternalServerError, api.CodeInternal, "internal error (injected fault, request processed)")
		fault.injected = true
		s.write(w, r, endpoint, requestID, body, fault)
		return
	case FaultProcessThenDrop:
		drop(w)
		return
	case FaultProcessBusy:
		if rep.code == api.CodeOK {
			rep = &reply{status: http.StatusOK, code: CodeBusy,
				message: "系统繁忙，请稍后再试 (system busy; injected fault, request processed)", injected: true}
		}
	}
	s.write(w, r, endpoint, requestID, body, rep)
}

// drop closes the request's connection without a reply.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// processLate is FaultProcessLate: it waits for delay, ignoring the client
// (which may have given up), processes the request, and replies to whoever
// is still listening. The request counts as pending until it is processed.
func (s *Server) processLate(w http.ResponseWriter, r *http.Request, endpoint, requestID string, body []byte, delay time.Duration) {
	s.mu.Lock()
	if s.pending == 0 {
		s.idle = make(chan struct{})
	}
	s.pending++
	s.stat(endpoint).Pending++
	s.mu.Unlock()

	time.Sleep(delay)
	rep := s.handle(endpoint, body)

	s.mu.Lock()
	s.stat(endpoint).Pending--
	if s.pending--; s.pending == 0 {
		close(s.idle)
	}
	s.mu.Unlock()
	// A client that left makes the write fail; nothing else to do.
	s.write(w, r, endpoint, requestID, body, rep)
}

// admit checks the five headers, the signature, the clock and replays, and
// the rate limit. It returns nil to let the request through.
func (s *Server) admit(r *http.Request) *reply {
	h := func(name string) string { return strings.TrimSpace(r.Header.Get(name)) }
	appKey, nonce, ts, sign := h(api.HeaderAppKey), h(api.HeaderNonce), h(api.HeaderTimestamp), h(api.HeaderSign)
	for _, hv := range []struct{ name, value string }{
		{api.HeaderAppKey, appKey}, {api.HeaderNonce, nonce}, {api.HeaderTimestamp, ts}, {api.HeaderSign, sign},
	} {
		if hv.value == "" {
			return refuse(http.StatusUnauthorized, api.CodeAuth, "missing header %s", hv.name)
		}
	}
	if appKey != s.appKey {
		return refuse(http.StatusUnauthorized, api.CodeAuth, "unknown app key %q", appKey)
	}
	if len(nonce) != 6 || !allDigits(nonce) {
		return refuse(http.StatusUnauthorized, api.CodeAuth, "m7-nonce must be a 6-digit number, got %q", nonce)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !allDigits(ts) {
		return refuse(http.StatusUnauthorized, api.CodeAuth, "m7-timestamp must be Unix seconds (10 digits), got %q", ts)
	}
	if !api.Verify(appKey, s.secret, ts, nonce, sign) {
		return refuse(http.StatusUnauthorized, api.CodeAuth,
			"signature mismatch: m7-sign must be base64(HMAC-SHA256(secret, appkey+timestamp+nonce))")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if skew := now.Sub(time.Unix(secs, 0)); skew > api.ReplayWindow || skew < -api.ReplayWindow {
		return refuse(http.StatusForbidden, api.CodeClockSkew,
			"m7-timestamp %s is more than 5 minutes from the server clock (%d); it must be Unix seconds, 10 digits",
			ts, now.Unix())
	}
	for len(s.replayOrder) > 0 && now.Sub(s.replayOrder[0].at) > api.ReplayWindow {
		delete(s.replay, s.replayOrder[0].key)
		s.replayOrder[0] = seen{}
		s.replayOrder = s.replayOrder[1:]
	}
	key := sign + "|" + nonce
	if _, dup := s.replay[key]; dup {
		return refuse(http.StatusConflict, api.CodeReplay, "replayed request: this m7-sign and m7-nonce were used in the last 5 minutes")
	}
	s.replay[key] = struct{}{}
	s.replayOrder = append(s.replayOrder, seen{key, now})

	if s.limiter != nil {
		res := s.limiter.ReserveN(now, 1)
		if !res.OK() {
			return &reply{status: http.StatusTooManyRequests, code: api.CodeRateLimited,
				message: "too many requests", retryAfter: time.Second}
		}
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			return &reply{status: http.StatusTooManyRequests, code: api.CodeRateLimited,
				message:    fmt.Sprintf("too many requests: over %g per second for app key %s", float64(s.limiter.Limit()), appKey),
				retryAfter: d}
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// requestID returns 32 hex digits from the seeded source. Call with s.mu held.
func (s *Server) requestID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := s.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

// stat returns the endpoint's counters. Call with s.mu held.
func (s *Server) stat(endpoint string) *EndpointStats {
	st := s.stats[endpoint]
	if st == nil {
		st = &EndpointStats{Refused: map[string]int{}, Faults: map[string]int{}}
		s.stats[endpoint] = st
	}
	return st
}

// write sends rep as the API's envelope, echoing the request as
// requestInfo.body the way the vendor's examples do, and counts refusals.
func (s *Server) write(w http.ResponseWriter, r *http.Request, endpoint, requestID string, body []byte, rep *reply) {
	if rep.code != api.CodeOK && !rep.injected {
		s.mu.Lock()
		s.stat(endpoint).Refused[rep.code]++
		s.mu.Unlock()
	}
	var buf bytes.Buffer
	buf.Grow(256 + len(body))
	buf.WriteString(`{"success":`)
	buf.WriteString(strconv.FormatBool(rep.code == api.CodeOK))
	buf.WriteString(`,"code":`)
	writeJSON(&buf, rep.code)
	buf.WriteString(`,"message":`)
	writeJSON(&buf, rep.message)
	if rep.data != nil {
		buf.WriteString(`,"data":`)
		writeJSON(&buf, rep.data)
	}
	buf.WriteString(`,"requestInfo":{"requestId":`)
	writeJSON(&buf, requestID)
	buf.WriteString(`,"url":`)
	writeJSON(&buf, r.URL.Path)
	buf.WriteString(`,"proxyUrl":`)
	writeJSON(&buf, "http://"+r.Host+r.URL.Path)
	buf.WriteString(`,"body":`)
	// A request the endpoint accepted was valid JSON; only refusals need
	// checking before the body is echoed verbatim.
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && (rep.code == api.CodeOK || json.Valid(trimmed)) {
		buf.Write(trimmed)
	} else {
		buf.WriteString("null")
	}
	buf.WriteString("}}\n")

	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if rep.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(rep.retryAfter.Seconds())), 10))
	}
	w.WriteHeader(rep.status)
	w.Write(buf.Bytes())
}

func writeJSON(buf *bytes.Buffer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("null")
	}
	buf.Write(b)
}
