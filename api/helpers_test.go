package api_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

// testSecret is distinctive so that a leak into an error string is found.
const (
	testAppKey = "2000103"
	testSecret = "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3"
)

var requestIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// clock is an injectable clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a simulator served over real HTTP and a client pointed at it.
type env struct {
	sim    *sim.Server
	server *httptest.Server
	client *api.Client
}

// newEnv starts a simulator (with the test credentials unless scfg names
// others) and a client; tweak adjusts the client's config.
func newEnv(t *testing.T, scfg sim.Config, tweak func(*api.Config)) *env {
	t.Helper()
	if scfg.AppKey == "" {
		scfg.AppKey, scfg.Secret = testAppKey, testSecret
	}
	s := sim.New(scfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	cfg := api.Config{BaseURL: ts.URL, AppKey: scfg.AppKey, Secret: scfg.Secret, Now: scfg.Now, Timeout: 5 * time.Second}
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := api.New(cfg)
	if err != nil {
		t.Fatalf("api.New: %v", err)
	}
	return &env{sim: s, server: ts, client: c}
}

// handSign signs with crypto/hmac directly from AUTH.md, not with api.Sign.
func handSign(appKey, secret, timestamp, nonce string) string {
	m := hmac.New(sha256.New, []byte(secret))
	io.WriteString(m, appKey+timestamp+nonce)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// signedHeaders returns the five headers of a correctly signed request.
func signedHeaders(now time.Time, nonce string) map[string]string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return map[string]string{
		"Content-Type": "application/json",
		"m7-appkey":    testAppKey,
		"m7-nonce":     nonce,
		"m7-timestamp": ts,
		"m7-sign":      handSign(testAppKey, testSecret, ts, nonce),
	}
}

type rawReply struct {
	status     int
	retryAfter string
	Success    bool   `json:"success"`
	Code       string `json:"code"`
	Message    string `json:"message"`
	Data       json.RawMessage
	Info       struct {
		RequestID string          `json:"requestId"`
		URL       string          `json:"url"`
		Body      json.RawMessage `json:"body"`
	} `json:"requestInfo"`
}

// rawPost sends a request by hand, without the client.
func rawPost(t *testing.T, method, url string, headers map[string]string, body []byte) rawReply {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := rawReply{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("reply is not JSON: %v: %s", err, raw)
	}
	return r
}

func rows(numbers ...string) []api.ImportRow {
	out := make([]api.ImportRow, len(numbers))
	for i, n := range numbers {
		out[i] = api.ImportRow{Name: "客户" + n, Number: n, Remark: "r"}
	}
	return out
}

func numbersOf(ns []sim.Number) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Number
	}
	return out
}

func readAll(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	return io.ReadAll(r.Body)
}
