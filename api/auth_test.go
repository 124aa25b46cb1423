package api_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

func TestSignMatchesAuthTestVector(t *testing.T) {
	got := api.Sign("2000103", "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3", "1608119594", "123221")
	if want := "ybCwXrg9CMo39xv1kdfVLemqFmk+2Elz+vXYu1CyHlo="; got != want {
		t.Fatalf("Sign = %q, want %q (AUTH.md)", got, want)
	}
	if hand := handSign("2000103", "HWHp9xFVlbboxIU2S6DHA7sf9sGzt3", "1608119594", "123221"); hand != got {
		t.Fatalf("hand-written HMAC %q differs from Sign %q", hand, got)
	}
}

func TestVerifyRoundTrip(t *testing.T) {
	sign := api.Sign("k", "s", "1700000000", "123456")
	tests := []struct {
		name                      string
		appKey, secret, ts, nonce string
		sign                      string
		want                      bool
	}{
		{"same inputs", "k", "s", "1700000000", "123456", sign, true},
		{"other app key", "k2", "s", "1700000000", "123456", sign, false},
		{"other secret", "k", "s2", "1700000000", "123456", sign, false},
		{"other timestamp", "k", "s", "1700000001", "123456", sign, false},
		{"other nonce", "k", "s", "1700000000", "123457", sign, false},
		{"garbage sign", "k", "s", "1700000000", "123456", "xyz", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := api.Verify(tt.appKey, tt.secret, tt.ts, tt.nonce, tt.sign); got != tt.want {
				t.Errorf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHandSignedRequestSucceedsAgainstSim(t *testing.T) {
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now}, nil)
	body := []byte(`{"taskName":"手工签名","description":"","agentNumberList":["2000"],"queueNumberList":[],"agentNumber":"2001"}`)
	r := rawPost(t, http.MethodPost, e.server.URL+api.PathCreateTask, signedHeaders(clk.Now(), "654321"), body)
	if r.status != http.StatusOK || !r.Success || r.Code != "200" {
		t.Fatalf("reply %d %v %s %s, want 200 success", r.status, r.Success, r.Code, r.Message)
	}
	if !requestIDPattern.MatchString(r.Info.RequestID) {
		t.Errorf("requestId %q is not 32 hex digits", r.Info.RequestID)
	}
	if r.Info.URL != api.PathCreateTask || !strings.Contains(string(r.Info.Body), "手工签名") {
		t.Errorf("requestInfo url %q body %s: want the path and the echoed body", r.Info.URL, r.Info.Body)
	}
	if len(r.Data) != 0 {
		t.Errorf("create returned data %s; the document shows none", r.Data)
	}
	if tasks := e.sim.Tasks(); len(tasks) != 1 || tasks[0].Name != "手工签名" || tasks[0].Creator != "2001" {
		t.Errorf("sim holds %+v, want the one task", tasks)
	}
}

func TestSimRefusesBadRequests(t *testing.T) {
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now}, nil)
	body := []byte(`{"name":"","status":""}`)
	now := clk.Now()
	with := func(mod func(h map[string]string)) map[string]string {
		h := signedHeaders(now, "111111")
		mod(h)
		return h
	}
	resign := func(ts, nonce string) func(h map[string]string) {
		return func(h map[string]string) {
			h["m7-timestamp"], h["m7-nonce"] = ts, nonce
			h["m7-sign"] = handSign(testAppKey, testSecret, ts, nonce)
		}
	}
	unix := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name    string
		method  string
		headers map[string]string
		body    []byte
		status  int
		code    string
		message string
	}{
		{"missing appkey", "POST", with(func(h map[string]string) { delete(h, "m7-appkey") }), body, 401, api.CodeAuth, "m7-appkey"},
		{"missing nonce", "POST", with(func(h map[string]string) { delete(h, "m7-nonce") }), body, 401, api.CodeAuth, "m7-nonce"},
		{"missing timestamp", "POST", with(func(h map[string]string) { delete(h, "m7-timestamp") }), body, 401, api.CodeAuth, "m7-timestamp"},
		{"missing sign", "POST", with(func(h map[string]string) { delete(h, "m7-sign") }), body, 401, api.CodeAuth, "m7-sign"},
		{"unknown appkey", "POST", with(func(h map[string]string) { h["m7-appkey"] = "999" }), body, 401, api.CodeAuth, "app key"},
		{"wrong signature", "POST", with(func(h map[string]string) { h["m7-sign"] = handSign(testAppKey, "wrong", h["m7-timestamp"], "111111") }), body, 401, api.CodeAuth, "signature"},
		{"five-digit nonce", "POST", with(resign(unix(0), "12345")), body, 401, api.CodeAuth, "6-digit"},
		{"millisecond timestamp", "POST", with(resign(strconv.FormatInt(now.UnixMilli(), 10), "222222")), body, 403, api.CodeClockSkew, "10 digits"},
		{"timestamp 6 min behind", "POST", with(resign(unix(-6*time.Minute), "333333")), body, 403, api.CodeClockSkew, "5 minutes"},
		{"timestamp 6 min ahead", "POST", with(resign(unix(6*time.Minute), "444444")), body, 403, api.CodeClockSkew, "5 minutes"},
		{"GET", "GET", with(resign(unix(0), "555555")), nil, 405, api.CodeMethod, "POST"},
		{"text/plain", "POST", with(func(h map[string]string) { h["Content-Type"] = "text/plain" }), body, 415, api.CodeContentType, "application/json"},
		{"malformed JSON", "POST", with(resign(unix(0), "666666")), []byte(`{"name":`), 400, api.CodeInvalid, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rawPost(t, tt.method, e.server.URL+api.PathQueryTasks, tt.headers, tt.body)
			if r.status != tt.status || r.Success || r.Code != tt.code || !strings.Contains(r.Message, tt.message) {
				t.Errorf("got %d success=%v code=%s %q; want %d code=%s mentioning %q",
					r.status, r.Success, r.Code, r.Message, tt.status, tt.code, tt.message)
			}
			if !requestIDPattern.MatchString(r.Info.RequestID) {
				t.Errorf("requestId %q is not 32 hex digits", r.Info.RequestID)
			}
		})
	}
}

func TestSimRefusesReplayedSignAndNonce(t *testing.T) {
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now}, nil)
	h := signedHeaders(clk.Now(), "777777")
	body := []byte(`{"name":"","status":""}`)
	if r := rawPost(t, "POST", e.server.URL+api.PathQueryTasks, h, body); !r.Success {
		t.Fatalf("first request refused: %d %s", r.status, r.Message)
	}
	clk.Add(4 * time.Minute)
	if r := rawPost(t, "POST", e.server.URL+api.PathQueryTasks, h, body); r.status != 409 || r.Code != api.CodeReplay {
		t.Fatalf("replay within 5 min: %d %s %s, want 409 %s", r.status, r.Code, r.Message, api.CodeReplay)
	}
	if got := e.sim.Stats()[sim.EndpointGet].Refused[api.CodeReplay]; got != 1 {
		t.Errorf("Stats refused replay = %d, want 1", got)
	}
}

// fixedNonce returns the same nonce every time, to provoke a replay.
func fixedNonce() (string, error) { return "123456", nil }

func TestClientClassifiesRefusals(t *testing.T) {
	clk := newClock()
	tests := []struct {
		name      string
		tweak     func(*api.Config)
		call      func(c *api.Client) error
		wantClass api.Class
		wantAuth  bool
		wantHTTP  int
	}{
		{"wrong secret", func(c *api.Config) { c.Secret = "not-the-secret" },
			func(c *api.Client) error {
				_, _, err := c.QueryTasks(context.Background(), api.QueryTasksRequest{})
				return err
			},
			api.Permanent, true, 401},
		{"wrong app key", func(c *api.Config) { c.AppKey = "1" },
			func(c *api.Client) error {
				_, _, err := c.QueryTasks(context.Background(), api.QueryTasksRequest{})
				return err
			},
			api.Permanent, true, 401},
		{"client clock 10 min fast", func(c *api.Config) { c.Now = func() time.Time { return clk.Now().Add(10 * time.Minute) } },
			func(c *api.Client) error {
				_, _, err := c.QueryTasks(context.Background(), api.QueryTasksRequest{})
				return err
			},
			api.Permanent, true, 403},
		{"replayed nonce", func(c *api.Config) { c.Nonce = fixedNonce },
			func(c *api.Client) error {
				if _, _, err := c.QueryTasks(context.Background(), api.QueryTasksRequest{}); err != nil {
					return err
				}
				_, _, err := c.QueryTasks(context.Background(), api.QueryTasksRequest{})
				return err
			},
			api.Retryable, false, 409},
		{"import into unknown task", nil,
			func(c *api.Client) error {
				_, err := c.Import(context.Background(), api.ImportRequest{TaskID: "nope", ImportData: rows("13800138000")})
				return err
			},
			api.Permanent, false, 404},
		{"create without name", nil,
			func(c *api.Client) error {
				_, err := c.CreateTask(context.Background(), api.CreateTaskRequest{})
				return err
			},
			api.Permanent, false, 400},
		{"create with unknown agent", nil,
			func(c *api.Client) error {
				_, err := c.CreateTask(context.Background(), api.CreateTaskRequest{TaskName: "x", AgentNumberList: []string{"9999"}})
				return err
			},
			api.Permanent, false, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sim.Config{Now: clk.Now}, tt.tweak)
			err := tt.call(e.client)
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T), want *api.Error", err, err)
			}
			if ae.HTTPStatus != tt.wantHTTP || !requestIDPattern.MatchString(ae.RequestID) || ae.Message == "" {
				t.Errorf("error %+v: want HTTP %d, a request id and a message", ae, tt.wantHTTP)
			}
			if got := api.Classify(err); got != tt.wantClass {
				t.Errorf("Classify = %v, want %v (%v)", got, tt.wantClass, err)
			}
			if got := api.IsAuth(err); got != tt.wantAuth {
				t.Errorf("IsAuth = %v, want %v", got, tt.wantAuth)
			}
		})
	}
}

func TestDefaultNoncesAreSixDigitsAndNeverRepeat(t *testing.T) {
	clk := newClock()
	seen := map[string]bool{}
	var mu = make(chan struct{}, 1)
	e := newEnv(t, sim.Config{Now: clk.Now}, func(c *api.Config) {
		c.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu <- struct{}{}
			n := r.Header.Get(api.HeaderNonce)
			if len(n) != 6 || seen[n] {
				t.Errorf("nonce %q: not 6 digits or repeated", n)
			}
			seen[n] = true
			<-mu
			return nil, errors.New("not sending")
		})}
	})
	for range 2000 {
		e.client.Post(context.Background(), api.PathQueryTasks, []byte(`{}`), nil)
	}
	if len(seen) != 2000 {
		t.Errorf("%d distinct nonces from 2000 requests", len(seen))
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
